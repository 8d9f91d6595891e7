import re
from collections.abc import MutableMapping

import jax
import jax.numpy as jnp
import optax

from kerax import optimizers as optimizers_lib  # the namespace (its `deserialize`)
from kerax.backend import host_constants
from kerax.optimizers import optimizer_variables as ov
from kerax.optimizers.base_optimizer import Optimizer
from kerax.optimizers.optax_state import path_str
from kerax.optimizers.loss_scale_optimizer import LossScaleOptimizer
from kerax.serialization import serialization_lib


class OptimizerMap(MutableMapping):
    """Maps variable paths (regexes, full match) to optimizers, with a default.

    Example:
    >>> from kerax.optimizers import SGD, Adam
    >>> m = OptimizerMap(Adam(), {"dense/.*": SGD()})
    >>> type(m("dense/kernel")).__name__, type(m("out/kernel")).__name__
    ('SGD', 'Adam')
    """

    def __init__(self, default_optimizer, optimizer_map=None):
        if not isinstance(default_optimizer, Optimizer):
            raise TypeError(
                "default_optimizer must be a kerax Optimizer instance. "
                f"Received: {default_optimizer!r}"
            )
        if optimizer_map is not None and not isinstance(optimizer_map, dict):
            raise TypeError(f"optimizer_map must be a dictionary. Received: {optimizer_map!r}")
        self._default_optimizer = default_optimizer
        self._optimizer_map = dict(optimizer_map or {})

    @property
    def default_optimizer(self):
        return self._default_optimizer

    def __getitem__(self, key):
        if key in self._optimizer_map:
            return self._optimizer_map[key]
        matches = [p for p in self._optimizer_map if re.fullmatch(p, key)]
        if len(matches) > 1:
            raise ValueError(
                f"Multiple optimizers assigned to variable {key!r} (patterns {matches}); "
                "make the patterns of the OptimizerMap disjoint."
            )
        return self._optimizer_map[matches[0]] if matches else self._default_optimizer

    def __setitem__(self, key, optimizer):
        if key in self._optimizer_map:
            raise ValueError(f"'{key}' already exists in the OptimizerMap; keys must be unique.")
        if not isinstance(optimizer, Optimizer):
            raise ValueError(f"optimizer must be a kerax Optimizer. Received: {optimizer!r}")
        self._optimizer_map[key] = optimizer

    def __delitem__(self, key):
        del self._optimizer_map[key]

    def __len__(self):
        return len(self._optimizer_map)

    def __iter__(self):
        return iter(self._optimizer_map)

    def __call__(self, variable):
        """The optimizer of a leaf, given its path string (or an object with `.path`)."""
        return self[getattr(variable, "path", variable)]

    def get_config(self):
        serialize = serialization_lib.serialize_keras_object
        return {"default_optimizer": serialize(self._default_optimizer),
                "optimizer_map": serialize(self._optimizer_map)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        default = optimizers_lib.deserialize(config["default_optimizer"], custom_objects)
        mapping = {k: optimizers_lib.deserialize(v, custom_objects)
                   for k, v in (config.get("optimizer_map") or {}).items()}
        return cls(default, mapping)


class MultiOptimizer(Optimizer):
    """Routes each parameter leaf to an optimizer chosen by its path, as Keras 3.

    `optimizer_map` is an `OptimizerMap` or any callable `path -> optimizer`; each inner
    optimizer sees its leaves as a flat dict keyed by path (`"dense/kernel"`).

    Example:
    >>> import jax.numpy as jnp
    >>> from kerax.optimizers import SGD
    >>> opt = MultiOptimizer(OptimizerMap(SGD(0.1), {"b": SGD(1.0)}))
    >>> p = {"a": jnp.ones(1), "b": jnp.ones(1)}
    >>> new, _ = opt.apply(p, opt.init(p), p)
    >>> round(float(new["a"][0]), 6), float(new["b"][0])
    (0.9, 0.0)
    """

    def __init__(self, optimizer_map, loss_scale_factor=None, name=None):
        super().__init__(learning_rate=0.0, loss_scale_factor=loss_scale_factor, name=name)
        self._optimizer_map = optimizer_map
        self._inner_optimizers = []
        values = list(optimizer_map.values()) if hasattr(optimizer_map, "values") else []
        default = getattr(optimizer_map, "default_optimizer", None)
        for opt in values + ([default] if default is not None else []):
            self._add(opt)

    def _add(self, opt):
        if not isinstance(opt, Optimizer) or isinstance(opt, (LossScaleOptimizer,
                                                              MultiOptimizer)):
            raise ValueError(
                "Each optimizer of a MultiOptimizer must be a kerax Optimizer other than "
                f"LossScaleOptimizer or MultiOptimizer. Received: {opt!r}"
            )
        if not any(opt is o for o in self._inner_optimizers):
            opt.loss_scale_factor = self.loss_scale_factor
            opt._tx = None
            self._inner_optimizers.append(opt)
        return next(i for i, o in enumerate(self._inner_optimizers) if o is opt)

    @property
    def optimizers(self):
        return list(self._inner_optimizers)

    def _keras_paths(self):
        """`{params path: Keras variable path}` of the bound model's trainable variables
        (`"sequential/dense/kernel"` for `"dense/kernel"`): Keras routes by `variable.path`."""
        owner = self._owner() if self._owner is not None else None
        if owner is None:
            return {}
        try:
            leaves, _ = owner._keras_variable_layout()
            return {"/".join(map(str, path)): v.path
                    for v, (coll, path) in zip(owner.trainable_variables, leaves)
                    if coll == "params"}
        except (AttributeError, ValueError, TypeError):
            return {}

    def _split(self, tree):
        flat, treedef = jax.tree_util.tree_flatten_with_path(tree)
        groups = [dict() for _ in self._inner_optimizers]
        order = []
        keras_paths = self._keras_paths()
        for path, leaf in flat:
            key = path_str(path)
            i = self._add(self._optimizer_map(keras_paths.get(key, key)))
            while len(groups) <= i:
                groups.append({})
            groups[i][key] = leaf
            order.append((i, key))
        return groups, order, treedef

    @property
    def tx(self):
        if self._tx is None:
            self._tx = optax.GradientTransformation(self._init, self._update)
        return self._tx

    def _init(self, params):
        groups, _, _ = self._split(params)
        # As Keras, every optimizer has its `iteration` and `learning_rate`, with variables
        # or without; the wrapper's own `learning_rate` stays 0.
        return {"count": host_constants.full((), 0, jnp.int32),
                "learning_rate": host_constants.full((), 0, jnp.float32),
                "inner": tuple(opt.tx.init(g)
                               for opt, g in zip(self._inner_optimizers, groups))}

    def _layout(self, state, refs=None):
        """Keras' order: the wrapper's `iteration` and `learning_rate`, then each
        optimizer's variables (for the variables routed to it) under its own name."""
        refs = self._ordered_refs() if refs is None else refs
        keras_paths = self._keras_paths()
        routed = [[] for _ in self._inner_optimizers]
        for name, var_path in refs:
            key = "/".join(map(str, var_path))
            routed[self._add(self._optimizer_map(keras_paths.get(key, key)))].append(
                (name, (key,)))
        entries = [ov.Entry(n, [((n if n == "learning_rate" else "count",), ov._same)])
                   for n in ("iteration", "learning_rate")]
        for i, (opt, opt_refs) in enumerate(zip(self._inner_optimizers, routed)):
            inner = opt._layout(state["inner"][i], opt_refs)
            if isinstance(inner, ov.Fallback):
                return ov.layout(self, state, refs)
            entries += [ov.Entry(f"{opt.name}/{e.name}",
                                 [(("inner", i) + tuple(p), fn) for p, fn in e.targets],
                                 e.keras_name, e.keras_path or f"{opt.name}/{e.keras_name}")
                        for e in inner]
        return entries

    def _update(self, grads, state, params):
        g_groups, order, treedef = self._split(grads)
        p_groups, _, _ = self._split(params)
        updates, inner = [], []
        for opt, g, p, s in zip(self._inner_optimizers, g_groups, p_groups, state["inner"]):
            if g:
                u, s = opt.tx.update(g, s, p)
            else:
                u = {}
            updates.append(u)
            inner.append(s)
        flat = [updates[i][key] for i, key in order]
        return treedef.unflatten(flat), {"count": state["count"] + 1,
                                         "learning_rate": state["learning_rate"],
                                         "inner": tuple(inner)}

    @property
    def iterations(self):
        return 0 if self.state is None else int(self.state["count"])

    @property
    def learning_rate(self):
        raise AttributeError(
            "Learning rate cannot be accessed on a MultiOptimizer. Access the learning rate "
            "on the individual sub-optimizers instead."
        )

    @learning_rate.setter
    def learning_rate(self, value):
        raise AttributeError(
            "Learning rate cannot be set on a MultiOptimizer. Set the learning rate on the "
            "individual sub-optimizers instead."
        )

    @property
    def loss_scale_factor(self):
        return getattr(self, "_loss_scale_factor", None)

    @loss_scale_factor.setter
    def loss_scale_factor(self, value):
        self._loss_scale_factor = value
        for opt in getattr(self, "_inner_optimizers", []):
            opt.loss_scale_factor = value
            opt._tx = None

    def finalize_variable_values(self, params, opt_state=None):
        state = self.state if opt_state is None else opt_state
        groups, order, treedef = self._split(params)
        done = [opt.finalize_variable_values(g, s) if g else {}
                for opt, g, s in zip(self._inner_optimizers, groups, state["inner"])]
        return treedef.unflatten([done[i][key] for i, key in order])

    def get_config(self):
        return {"optimizer_map": serialization_lib.serialize_keras_object(self._optimizer_map),
                "loss_scale_factor": self.loss_scale_factor, "name": self.name}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        config["optimizer_map"] = OptimizerMap.from_config(
            config["optimizer_map"]["config"], custom_objects)
        return cls(**config)
