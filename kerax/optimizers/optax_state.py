"""Optax-level building blocks of the optimizers: the `InjectHyperparamsState` that holds
the learning rate (found and replaced wherever a wrapper nests it) and `simple_transform`,
which turns Keras' per-variable update rule into an optax transformation.
"""

import jax
import jax.numpy as jnp
import optax

from kerax.backend import host_constants
from kerax.backend import naming

tree_map = jax.tree_util.tree_map

path_str = naming.key_path_str  # `(DictKey('dense'), DictKey('kernel'))` -> "dense/kernel"

SLOTS = ("slots",)  # where `simple_transform` keeps the per-variable slots


def map_with_path(fn, tree, *rest):
    """`tree_map` whose `fn` also receives the leaf's path string first."""
    return jax.tree_util.tree_map_with_path(lambda p, *xs: fn(path_str(p), *xs), tree, *rest)


def is_hyper_state(x):
    return hasattr(x, "hyperparams") and hasattr(x, "inner_state")


def find_hyper_state(state):
    """The first `InjectHyperparamsState` in `state` (depth first), or None."""
    if is_hyper_state(state):
        return state
    for leaf in jax.tree_util.tree_leaves(state, is_leaf=is_hyper_state):
        if is_hyper_state(leaf):
            return leaf
    return None


def replace_hyper_state(state, new):
    """`state` with its first `InjectHyperparamsState` replaced by `new`."""
    if is_hyper_state(state):
        return new
    done = []

    def swap(x):
        if is_hyper_state(x) and not done:
            done.append(True)
            return new
        return x

    return tree_map(swap, state, is_leaf=is_hyper_state)


def zeros_like(tree, value=0.0):
    """A tree of arrays like `tree`'s leaves, filled with `value`."""
    return tree_map(lambda p: host_constants.full_like(p, value), tree)


def simple_transform(init_leaf, update_leaf, with_path=False):
    """Builds an optax transform from per-leaf functions plus a shared step count.

    `init_leaf(param) -> slots` and `update_leaf(step, grad, param, slots) -> (delta,
    new_slots)`, where `step` is the 1-based float step (Keras' `iterations + 1`) and
    slots is any pytree. With `with_path=True` both also receive the leaf's path first.
    """

    def init_fn(params):
        f = (lambda path, p: init_leaf(path, p)) if with_path else (lambda _, p: init_leaf(p))
        return {"count": host_constants.full((), 0, jnp.int32), "slots": map_with_path(f, params)}

    def update_fn(grads, state, params=None):
        count = state["count"] + 1
        flat, treedef = jax.tree_util.tree_flatten_with_path(grads)
        param_leaves = treedef.flatten_up_to(params)
        slot_leaves = treedef.flatten_up_to(state["slots"])
        deltas, slots = [], []
        for (path, g), p, s in zip(flat, param_leaves, slot_leaves):
            step = count.astype(p.dtype)
            g = g.astype(p.dtype)
            args = (path_str(path), step, g, p, s) if with_path else (step, g, p, s)
            d, s = update_leaf(*args)
            deltas.append(d.astype(p.dtype))
            slots.append(s)
        new_state = {"count": count, "slots": treedef.unflatten(slots)}
        return treedef.unflatten(deltas), new_state

    return optax.GradientTransformation(init_fn, update_fn)
