"""Keras' `optimizer.variables` as views over kerax's optax state.

Keras lists an optimizer's variables as `iteration`, `learning_rate` (absent with a
schedule), then, when enabled, the EMA `average` and the `gradient_accumulator` of each
trainable variable, then the slots of its update rule in the order its `build` creates
them (Adam: `momentum, velocity` of the first variable, then of the second, ...;
RMSprop: every `velocity`, then every `momentum`, then every `average_gradient`), then
any scalars (Nadam's `u_product`, named `variable`). kerax keeps the same numbers in one
optax state; this module maps between the two:

- `layout(optimizer, state, var_refs)` gives the Keras list as entries, each a name and
  the state paths it reads (the first) and writes (all: `iteration` is the step count of
  every stage of the chain);
- `to_list` / `from_list` convert a state to the Keras list of arrays and back, which is
  what `stateless_apply` does with Keras-style lists;
- `OptimizerVariable` is the live, named, assignable handle `optimizer.variables` lists.

Optimizers whose slot layout is declared (`Optimizer.keras_slot_groups`) map exactly;
for the others every leaf of the state is listed under its path.
"""

import jax
import jax.numpy as jnp
import numpy as np

from kerax.layers.variable_view import VariableView


def _plain(key):
    for attr in ("name", "key", "idx"):
        if hasattr(key, attr):
            return getattr(key, attr)
    return str(key)


def leaf_paths(state):
    """`({path: leaf_index}, leaves, treedef)` of `state`, paths as tuples of plain keys."""
    flat, treedef = jax.tree_util.tree_flatten_with_path(state)
    index = {tuple(_plain(k) for k in path): i for i, (path, _) in enumerate(flat)}
    return index, [leaf for _, leaf in flat], treedef


class Entry:
    """One Keras optimizer variable: a unique key, the `(path, to_stored)` it maps to, and
    the name and path Keras shows (by default the key and `optimizer_name/key`)."""

    __slots__ = ("name", "targets", "keras_name", "keras_path")

    def __init__(self, name, targets, keras_name=None, keras_path=None):
        self.name = name
        self.targets = targets  # [(path, fn mapping the Keras value to the stored one)]
        self.keras_name = keras_name or name
        self.keras_path = keras_path  # None: f"{optimizer.name}/{keras_name}"


class Slot:
    """A per-variable slot of `Optimizer.keras_slot_groups`: named `f"{variable}_{suffix}"`
    and stored at `prefix + variable_path + sub`.

    Args:
        suffix, prefix, sub: as the plain `(suffix, prefix, sub)` tuples.
        optional: Keras creates it for some variables only (Muon's AdamW `velocity`): a
            variable without it in the state has none.
        own_name: Keras names it after the variable itself (`kernel`, Adafactor's
            factored `r` and `c`).
        outside: Keras creates it outside the optimizer's name scope, so its path is its
            name (Adafactor's placeholders for variables of rank < 2).
    """

    def __init__(self, suffix, prefix, sub, optional=False, own_name=False, outside=None):
        self.suffix, self.prefix, self.sub = suffix, tuple(prefix), tuple(sub)
        self.optional, self.own_name = optional, own_name
        self.outside = outside  # outside(leaf) -> bool


def _slot(spec):
    return spec if isinstance(spec, Slot) else Slot(*spec)


def _same(v):
    return v


def _iteration_entry(opt, index):
    steps = opt.gradient_accumulation_steps
    targets = [(p, _same) for p in (("count",), ("inner_state", "count")) if p in index]
    inner = ("inner_state", "inner", "count")
    if inner in index:
        targets.append((inner, (lambda v: v // steps) if steps else _same))
    schedule = opt._initial_learning_rate
    if callable(schedule) and ("hyperparams_states", "learning_rate", "count") in index:
        # optax keeps the schedule's own step count and its last value (recomputed from
        # the count at every update, so only informative).
        targets.append((("hyperparams_states", "learning_rate", "count"), _same))
        targets.append((("hyperparams", "learning_rate"), schedule))
    return Entry("iteration", targets)


def layout(opt, state, var_refs):
    """The Keras-ordered entries of `state` (see the module docstring)."""
    index, leaves, _ = leaf_paths(state)
    groups = opt.keras_slot_groups()
    is_chain = ("count",) in index and ("inner_state", "count") in index
    if groups is None or not is_chain:
        return _fallback(index)
    entries = [_iteration_entry(opt, index)]
    if ("hyperparams", "learning_rate") in index and not callable(opt._initial_learning_rate):
        entries.append(Entry("learning_rate", [(("hyperparams", "learning_rate"), _same)]))
    per_var = []
    if opt.use_ema:
        per_var.append([("average", ("inner_state", "average"), ())])
    if opt.gradient_accumulation_steps:
        per_var.append([("gradient_accumulator", ("inner_state", "accumulators"), ())])
    inner = ("inner_state", "inner")
    per_var += [[Slot(s.suffix, inner + s.prefix, s.sub, s.optional, s.own_name, s.outside)
                 for s in map(_slot, group)] for group in groups]
    for group in per_var:
        for i, (name, var_path) in enumerate(var_refs):
            for slot in map(_slot, group):
                path = slot.prefix + tuple(var_path) + slot.sub
                if path not in index:
                    if slot.optional:
                        continue
                    return _fallback(index)
                keras_name = keras_path = None
                if slot.own_name:
                    keras_name = _variable_name(opt, i, name, var_path)
                    if slot.outside is not None and slot.outside(leaves[index[path]]):
                        keras_path = keras_name
                entries.append(Entry(f"{name}_{slot.suffix}", [(path, _same)], keras_name,
                                     keras_path))
    for extra in opt.keras_extra_variables():
        name, path, outside = (*extra, False) if len(extra) == 2 else extra
        entries.append(Entry(name, [(inner + tuple(path), _same)],
                             keras_path=name if outside else None))
    covered = {p for e in entries for p, _ in e.targets}
    if covered != set(index):
        return _fallback(index)
    return entries


def _variable_name(opt, i, ref_name, var_path):
    """The trainable variable's own name (`kernel`), as Keras names some slots."""
    built = getattr(opt, "_built_variables", None)
    if built and i < len(built) and isinstance(getattr(built[i], "name", None), str):
        return built[i].name
    last = var_path[-1] if var_path else ref_name
    return last if isinstance(last, str) else ref_name


class Fallback(list):
    """Entries that list the state's leaves under their paths (not Keras' layout)."""


def _fallback(index):
    return Fallback(Entry("/".join(str(k) for k in path), [(path, _same)]) for path in index)


def to_list(entries, state):
    """The state's values in the order of `entries`."""
    index, leaves, _ = leaf_paths(state)
    return [leaves[index[e.targets[0][0]]] for e in entries]


def from_list(entries, values, template):
    """A state shaped like `template` holding `values` (one per entry)."""
    if len(values) != len(entries):
        raise ValueError(
            f"`optimizer_variables` has {len(values)} arrays, but this optimizer has "
            f"{len(entries)} ({[e.name for e in entries]}). Pass `optimizer.variables` (or "
            "the list `stateless_apply` returned) for the same trainable variables."
        )
    index, leaves, treedef = leaf_paths(template)
    leaves = list(leaves)
    for e, value in zip(entries, values):
        value = getattr(value, "value", value) if isinstance(value, VariableView) else value
        for path, fn in e.targets:
            i = index[path]
            leaves[i] = jnp.asarray(fn(value)).astype(leaves[i].dtype)
    return jax.tree_util.tree_unflatten(treedef, leaves)


class OptimizerVariable(VariableView):
    """A named, live handle on one of the optimizer's variables (Keras' `optimizer.variables`).

    It reads the optimizer's current state (after `fit` too) and `assign` writes it.

    Example:
    >>> from kerax.optimizers import SGD
    >>> opt = SGD(learning_rate=0.1, name="sgd")
    >>> opt.learning_rate.assign(0.5)
    <Variable path=sgd/learning_rate, shape=(), dtype=float32, value=0.5>
    >>> float(opt.learning_rate)
    0.5
    """

    trainable = False

    def __init__(self, optimizer, name):
        self._optimizer = optimizer
        self._name = name
        self._collection = "optimizer"
        self._path = (name,)

    @property
    def name(self):
        entry = self._optimizer._entry(self._name)
        return self._name if entry is None else entry.keras_name

    @property
    def path(self):
        entry = self._optimizer._entry(self._name)
        if entry is not None and entry.keras_path is not None:
            return entry.keras_path
        return f"{self._optimizer.name}/{self.name}"

    @property
    def value(self):
        return self._optimizer._read_variable(self._name)

    def assign(self, value):
        if isinstance(value, VariableView):
            value = value.value
        value = jnp.asarray(value)
        if tuple(value.shape) != self.shape:
            raise ValueError(
                f"Cannot assign a value of shape {tuple(value.shape)} to optimizer variable "
                f"'{self.path}' of shape {self.shape}."
            )
        self._optimizer._write_variable(self._name, value)
        return self

    def __int__(self):
        return int(np.asarray(self.value))

    def __float__(self):
        return float(np.asarray(self.value))

    def __bool__(self):
        return bool(np.asarray(self.value))

    def __index__(self):
        return int(np.asarray(self.value))

    def __repr__(self):
        value = np.asarray(self.value)
        shown = value.item() if value.ndim == 0 else f"array of shape {value.shape}"
        return (f"<Variable path={self.path}, shape={self.shape}, dtype={self.dtype}, "
                f"value={shown}>")


def _flatten(v):
    return (v.value,), None


def _unflatten(_, children):
    return children[0]


# As Keras' JAX variables, `optimizer.variables` can be passed to `jax.jit` as they are.
jax.tree_util.register_pytree_node(OptimizerVariable, _flatten, _unflatten)
