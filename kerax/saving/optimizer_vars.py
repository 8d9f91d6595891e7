"""kerax's optax optimizer state as Keras 3's list of optimizer variables, and back.

Keras saves `optimizer.variables`: `iterations`, `learning_rate` (absent with a
schedule), then the slots of each trainable variable, interleaved per variable
(Adam: `m, v` of the first variable, `m, v` of the second, ...). kerax's built-in
optimizers keep the same numbers in an optax state (a step count and per-leaf slots), so
for the optimizers whose Keras slot layout is that interleaving (`SGD`, `RMSprop` without
momentum or centering, `Adagrad`, `Adam`/`AdamW` without AMSGrad, `Adamax`, `Lion`, all
without EMA or gradient accumulation) the state maps both ways. Other optimizers are
saved as the flat leaves of the optax state under a kerax-specific group, which Keras
ignores (it then starts with a fresh optimizer state).
"""

import jax
import numpy as np

from kerax.optimizers.base_optimizer import find_hyper_state, replace_hyper_state

_MAPPABLE = {"SGD", "RMSprop", "Adagrad", "Adam", "AdamW", "Adamax", "Lion"}


def ensure_built(model):
    """Builds `model.optimizer.state` for the model's trainable params (as `fit` would)."""
    from kerax.trainer import steps as steps_lib
    from kerax.trainer.trainer import _signature

    mask = model._trainable_mask()
    if model.optimizer.state is None or model._opt_mask_signature != _signature(mask):
        trainable, _ = steps_lib.partition(model.variables["params"], mask)
        model.optimizer.build(trainable)
        model._opt_mask_signature = _signature(mask)


def _trainable_paths(model):
    mask = model._trainable_mask()
    paths = []
    for coll, path in model._weight_leaves(model.variables):
        if coll == "params" and _get(mask, path) is True:
            paths.append(path)
    return paths


def _get(tree, path):
    for p in path:
        if not isinstance(tree, dict) or p not in tree:
            return None
        tree = tree[p]
    return tree


def _slot_plan(model):
    """`(hyper_state, slots, [(path, slot_indices, var_shape)])` or None if not mappable."""
    opt = model.optimizer
    if type(opt).__name__ not in _MAPPABLE or getattr(opt, "amsgrad", False):
        return None
    hs = find_hyper_state(opt.state)
    if hs is None or hs is not opt.state or not isinstance(hs.inner_state, dict):
        return None
    if set(hs.inner_state) != {"count", "inner"}:
        return None
    inner = hs.inner_state["inner"]
    if not isinstance(inner, dict) or set(inner) != {"count", "slots"}:
        return None
    plan, per_var = [], set()
    for path in _trainable_paths(model):
        var = _get(model.variables["params"], path)
        sub = _get(inner["slots"], path)
        leaves = jax.tree_util.tree_leaves(sub)
        idx = [i for i, leaf in enumerate(leaves) if tuple(leaf.shape) == tuple(var.shape)]
        plan.append((path, idx, tuple(var.shape)))
        per_var.add(len(idx))
    if len(per_var) > 1:
        return None
    return hs, inner["slots"], plan


def _head_count(optimizer):
    return 1 if callable(optimizer._initial_learning_rate) else 2


def keras_variables(model):
    """The optimizer state as Keras' variable list (NumPy arrays), or None if unmappable."""
    found = _slot_plan(model)
    if found is None:
        return None
    hs, slots, plan = found
    out = [np.asarray(hs.count, np.int64)]
    if _head_count(model.optimizer) == 2:
        out.append(np.asarray(hs.hyperparams["learning_rate"], np.float32))
    for path, idx, _ in plan:
        leaves = jax.tree_util.tree_leaves(_get(slots, path))
        out += [np.asarray(leaves[i]) for i in idx]
    return out


def expected_shapes(model):
    """Shapes of `keras_variables(model)` (None if unmappable), without reading values."""
    found = _slot_plan(model)
    if found is None:
        return None
    shapes = [()] * _head_count(model.optimizer)
    for _, idx, shape in found[2]:
        shapes += [shape] * len(idx)
    return shapes


def assign_keras_variables(model, arrays):
    """Sets the optimizer state from Keras' variable list (shapes already checked)."""
    hs, slots, plan = _slot_plan(model)
    head = _head_count(model.optimizer)
    count = int(np.asarray(arrays[0]))
    new_slots = jax.tree_util.tree_map(lambda x: x, slots)
    pos = head
    for path, idx, _ in plan:
        sub = _get(new_slots, path)
        leaves, treedef = jax.tree_util.tree_flatten(sub)
        for i in idx:
            leaves[i] = jax.numpy.asarray(arrays[pos], leaves[i].dtype)
            pos += 1
        parent = _get(new_slots, path[:-1])
        parent[path[-1]] = jax.tree_util.tree_unflatten(treedef, leaves)
    inner = dict(hs.inner_state)
    inner["count"] = _like(inner["count"], count)
    inner["inner"] = {"count": _like(inner["inner"]["count"], count), "slots": new_slots}
    hyper = dict(hs.hyperparams)
    if head == 2 and "learning_rate" in hyper:
        hyper["learning_rate"] = _like(hyper["learning_rate"], np.asarray(arrays[1]))
    new = hs._replace(count=_like(hs.count, count), hyperparams=hyper, inner_state=inner)
    model.optimizer.state = replace_hyper_state(model.optimizer.state, new)


def _like(old, value):
    return jax.numpy.asarray(value, jax.numpy.asarray(old).dtype)


def state_leaves(model):
    """The optax state's leaves (kerax's own layout, for unmappable optimizers)."""
    return [np.asarray(x) for x in jax.tree_util.tree_leaves(model.optimizer.state)]


def state_shapes(model):
    return [tuple(np.shape(x)) for x in jax.tree_util.tree_leaves(model.optimizer.state)]


def assign_state_leaves(model, arrays):
    leaves, treedef = jax.tree_util.tree_flatten(model.optimizer.state)
    new = [jax.numpy.asarray(a, jax.numpy.asarray(old).dtype) for a, old in zip(arrays, leaves)]
    model.optimizer.state = jax.tree_util.tree_unflatten(treedef, new)
