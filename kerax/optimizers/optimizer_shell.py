"""The optimizer's stateful shell, as Keras users know it: `build(var_list)`, the live
`optimizer.state` between executions, and Keras' variables over it (`variables`,
`iterations`, `learning_rate`), named and ordered as Keras names and orders them.

`Optimizer` (base_optimizer.py) is the pure contract plus this mixin.
"""

import weakref

import jax
import jax.numpy as jnp
import numpy as np

from kerax.layers.variable_view import VariableView
from kerax.optimizers import optimizer_variables as ov
from kerax.optimizers.optax_state import (find_hyper_state, is_hyper_state, path_str,
                                          replace_hyper_state)

SCHEDULE_NOT_SETTABLE = (
    "This optimizer was created with a `LearningRateSchedule` object as its "
    "`learning_rate` constructor argument, hence its learning rate is not settable. If you "
    "need the learning rate to be settable, you should instantiate the optimizer with a "
    "float `learning_rate` argument."
)


class OptimizerShell:
    """Mixin of `Optimizer`: Keras' stateful optimizer object over the pure transform."""
    def build(self, var_list):
        """Creates the optimizer state for `var_list` (what `compile`/`fit` do for you).

        `var_list` is a params pytree, or, as in Keras, a list of variables such as
        `model.trainable_variables`; `optimizer.variables` then lists Keras' variables
        for them, in Keras' order. A learning rate set before is kept.

        Example:
        >>> import jax.numpy as jnp
        >>> from kerax.optimizers import Adam
        >>> opt = Adam()
        >>> opt.build([jnp.zeros((2, 3))])
        >>> [v.name for v in opt.variables]
        ['iteration', 'learning_rate', '0_momentum', '0_velocity']
        """
        lr = None
        if self.state is not None and not callable(self._initial_learning_rate):
            lr = self._read_variable("learning_rate")
        self._built_variables = None
        if isinstance(var_list, (list, tuple)):
            if all(isinstance(v, VariableView) for v in var_list):
                self._built_variables = list(var_list)
            self._var_refs = [(keras_slot_name(v, i), (i,)) for i, v in enumerate(var_list)]
            self._from_tree = False
            for i, v in enumerate(var_list):  # weight decay exclusions, as Keras matches them
                name = getattr(v, "path", None)
                if id(v) in self._wd_exclude_ids or (
                        isinstance(name, str) and not self._use_weight_decay(name)):
                    self._wd_exclude_paths.add(str(i))
            params = [value_of(v) for v in var_list]
        else:
            flat = jax.tree_util.tree_flatten_with_path(var_list)[0]
            self._var_refs = [(path_str(p).replace("/", "_"), tuple(ov._plain(k) for k in p))
                              for p, _ in flat]
            self._from_tree = True
            params = var_list
        self.state = self.init(params)
        self._layout_cache = None
        if self._pending_iterations:
            self._write_variable("iteration", self._pending_iterations)
            self._pending_iterations = 0
        if lr is not None and "learning_rate" in self._hyper_state().hyperparams:
            self._set_learning_rate_in_state(lr)

    @property
    def built(self):
        return self.state is not None

    def _bind_owner(self, model):
        """Names and orders `variables` after `model.trainable_variables` (Keras' order)."""
        self._owner = weakref.ref(model)
        self._layout_cache = None

    def _ordered_refs(self):
        owner = self._owner() if self._owner is not None else None
        if owner is None or not self._from_tree:
            return self._var_refs
        try:
            # Views' own `_path` is relative to their layer: the owner's layout gives the
            # path of each trainable variable in the owner's params tree, in Keras' order.
            leaves, _ = owner._keras_variable_layout()
            refs = [(v.path.replace("/", "_"), tuple(path))
                    for v, (coll, path) in zip(owner.trainable_variables, leaves)
                    if coll == "params"]
        except (AttributeError, ValueError, TypeError):
            return self._var_refs
        if sorted(map(repr, (p for _, p in refs))) != sorted(
                map(repr, (p for _, p in self._var_refs))):
            return self._var_refs
        return refs

    def _layout(self, state, refs=None):
        return ov.layout(self, state, self._ordered_refs() if refs is None else refs)

    def _entries(self):
        if self.state is None:
            return None
        treedef = jax.tree_util.tree_structure(self.state)
        cached = self._layout_cache
        if cached is None or cached[0] != treedef:
            entries = self._layout(self.state)
            index = ov.leaf_paths(self.state)[0]  # static per structure: reads only flatten
            cached = (treedef, entries, {e.name: e for e in entries}, index)
            self._layout_cache = cached
        return cached

    def _entry(self, key):
        """The layout entry of the variable keyed `key` (None before `build`)."""
        found = self._entries()
        return None if found is None else found[2].get(key)

    def _keras_layout_exact(self):
        """Whether `variables` are exactly Keras' (else: the optax state's leaves)."""
        found = self._entries()
        return found is not None and not isinstance(found[1], ov.Fallback)

    def _assign_variables(self, values):
        """Sets every variable at once from Keras-ordered `values` (as from a file)."""
        self.state = ov.from_list(self._entries()[1], list(values), self.state)

    def _view(self, name):
        view = self._views.get(name)
        if view is None:
            view = self._views[name] = ov.OptimizerVariable(self, name)
        return view

    @property
    def variables(self):
        """Keras' optimizer variables (live, named, assignable), in Keras' order.

        Example:
        >>> from kerax.optimizers import SGD
        >>> [v.name for v in SGD().variables]
        ['iteration', 'learning_rate']
        """
        found = self._entries()
        if found is None:
            names = ["iteration"]
            if isinstance(self._initial_learning_rate, (int, float)):
                names.append("learning_rate")
        else:
            names = [e.name for e in found[1]]
        return [self._view(n) for n in names]

    def _read_variable(self, name):
        hs = self.state
        if is_hyper_state(hs):  # fast paths, for callbacks reading them every batch
            if name == "iteration":
                return hs.count
            if name == "learning_rate" and not callable(self._initial_learning_rate):
                return hs.hyperparams["learning_rate"]
        found = self._entries()
        if found is None:
            if name == "iteration":
                return jnp.asarray(self._pending_iterations, jnp.int32)
            if name == "learning_rate" and not callable(self._initial_learning_rate):
                return jnp.asarray(self._initial_learning_rate, jnp.float32)
            raise ValueError(
                f"Optimizer '{self.name}' is not built, so it has no variable '{name}'. Call "
                "`optimizer.build(model.trainable_variables)` (or `fit`) first."
            )
        entry = found[2].get(name)
        if entry is None:
            raise ValueError(f"Optimizer '{self.name}' has no variable '{name}'; it has "
                             f"{list(found[2])}.")
        return jax.tree_util.tree_leaves(self.state)[found[3][entry.targets[0][0]]]

    def _write_variable(self, name, value):
        found = self._entries()
        if found is None:
            if name == "iteration":
                self._pending_iterations = int(np.asarray(value))
                return
            if name == "learning_rate":
                self.learning_rate = value
                return
        if name not in found[2]:
            self._read_variable(name)  # raises the error naming the variables
        leaves, treedef = jax.tree_util.tree_flatten(self.state)
        for path, fn in found[2][name].targets:
            i = found[3][path]
            leaves[i] = jnp.asarray(fn(jnp.asarray(value))).astype(leaves[i].dtype)
        self.state = jax.tree_util.tree_unflatten(treedef, leaves)

    def _hyper_state(self):
        return None if self.state is None else find_hyper_state(self.state)

    @property
    def _raw_iterations(self):
        hs = self._hyper_state()
        return self._pending_iterations if hs is None else int(hs.count)

    @property
    def iterations(self):
        """The number of optimizer updates made, a live variable (Keras' `iterations`).

        With `gradient_accumulation_steps`, as in Keras, the number of applied updates
        (`iteration // gradient_accumulation_steps`) as an array.
        """
        steps = self.gradient_accumulation_steps
        if steps:
            return jnp.asarray(self._raw_iterations // steps, jnp.int32)
        return self._view("iteration")

    @property
    def learning_rate(self):
        """The learning rate: a live variable (with a schedule, its current value)."""
        lr = self._initial_learning_rate
        if callable(lr):
            return lr(self._raw_iterations)
        return self._view("learning_rate")

    @learning_rate.setter
    def learning_rate(self, value):
        if isinstance(value, VariableView):
            value = value.value
        if callable(self._initial_learning_rate) and not callable(value):
            raise TypeError(SCHEDULE_NOT_SETTABLE)
        if callable(value) or self._hyper_state() is None:
            self._initial_learning_rate = value if callable(value) else float(value)
            self._tx = None
            self.state = None
            self._layout_cache = None
            return
        self._set_learning_rate_in_state(value)

    def _set_learning_rate_in_state(self, value):
        hs = self._hyper_state()
        hyper = dict(hs.hyperparams)
        hyper["learning_rate"] = jnp.asarray(value, jnp.asarray(hyper["learning_rate"]).dtype)
        self.state = replace_hyper_state(self.state, hs._replace(hyperparams=hyper))


def value_of(v):
    return v.value if isinstance(v, VariableView) else v


def keras_slot_name(v, i):
    """Keras names an optimizer slot after the variable's path (`seq/dense/kernel`)."""
    path = getattr(v, "path", None)
    return path.replace("/", "_") if isinstance(path, str) else str(i)
