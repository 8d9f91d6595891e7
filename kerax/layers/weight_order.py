"""Keras' object model over a layer's variables: weight order and variable views.

A layer's numbers live in its `{"params", "state"}` pytree; Keras exposes them as a list
in a fixed order (own trainable weights in creation order, own non-trainable weights,
then each sub-layer's) and as attributes (`dense.kernel`). `WeightOrder` gives `Layer`
those lists (`weights`, `variables`, `get_weights`, `set_weights`, ...) and the attribute
views, each a `VariableView` bound to a path in the pytree (see `variable_view`).
"""

import weakref

import jax
import jax.numpy as jnp
import numpy as np

from kerax.backend import apply_scope as scope_lib
from kerax.layers.variable_list import VariableList, as_tree
from kerax.layers.variable_view import VariableView, views_for


# layer -> `((param names, state names), path prefix)` as its last `init` created them. Kept
# outside the layer: `init` leaves the layer as it was, and a jitted `init` returns its
# dicts with sorted keys, so this is where a never-built layer finds Keras' order.
_CREATION_ORDER = weakref.WeakKeyDictionary()


def note_creation_order(layer, names, path_prefix):
    """Remembers the order in which `init` created `layer`'s own variables, and the
    layer names their Keras `path` starts with (`"model/dense"` inside a model's `init`).

    Example:
    >>> import jax, numpy as np, kerax
    >>> dense = kerax.layers.Dense(2, name="d")
    >>> dense.variables = jax.jit(dense.init)(jax.random.PRNGKey(0), np.ones((1, 3)))
    >>> [w.path for w in dense.weights]  # the jitted dict is {"bias", "kernel"}
    ['d/kernel', 'd/bias']
    >>> model = kerax.Sequential([kerax.layers.Dense(2, name="d")], name="m")
    >>> model.variables = jax.jit(model.init)(jax.random.PRNGKey(0), np.ones((1, 3)))
    >>> [w.path for w in model.weights]  # as Keras' built model lists them
    ['m/d/kernel', 'm/d/bias']
    """
    _CREATION_ORDER[layer] = (names, path_prefix)


def created_path_prefix(layer):
    """The path prefix of `layer`'s variables as its last `init` created them, or None."""
    return _CREATION_ORDER.get(layer, (None, None))[1]


def _in_creation_order(tree, created):
    """`tree`'s names: those `init` created, in that order, then any others."""
    return [n for n in created if n in tree] + [n for n in tree if n not in created]


class WeightOrder:
    """Mixin of `Layer`: Keras' weight lists, in Keras' order, and variable attributes."""

    def __getattr__(self, name):
        # Keras exposes each variable as an attribute named like it (`dense.kernel`,
        # `bn.moving_mean`, `norm.mean`): a stable view on the layer's variables.
        prop = getattr(type(self), name, None)
        if isinstance(prop, property):  # a property that raised: let its own error show
            return prop.fget(self)
        if not name.startswith("__"):
            for coll in ("params", "state"):
                tree = scope_lib.variables_for(self, coll)
                if tree is not None and name in tree and is_leaf(tree[name]):
                    return self._view(coll, name)
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def _view(self, collection, name):
        """The one `VariableView` of this layer's variable `name` (created on first use)."""
        generator = self.__dict__.get("_seed_generators", {}).get(name)
        if generator is not None and collection == "state":
            return generator.state  # Keras lists the generator's own `state` variable
        views = self.__dict__.setdefault("_views", {})
        view = views.get((collection, name))
        if view is None:
            view = views[(collection, name)] = VariableView(self, collection, name)
        return view

    def _built_view(self, collection, name):
        """`_view` for a built-in layer's attribute (`dense.kernel`): AttributeError
        before the layer is built, as in Keras."""
        tree = scope_lib.variables_for(self, collection)
        if tree is None or name not in tree:
            raise AttributeError(
                f"Layer '{self.name}' ({type(self).__name__}) is not built yet, so it has no "
                f"`{name}`. Call it on an input (or `build(input_shape)`) first."
            )
        return self._view(collection, name)

    @property
    def _weight_names(self):
        """The names of the layer's own params and state in creation order (Keras' weight
        order): recorded by the shell that built the layer; for a layer given variables
        from a pure `init` (never built), the order its `init` created them in (a jitted
        `init` returns sorted dicts), else the order of those variables' dicts."""
        recorded = self.__dict__.get("_recorded_weight_names")
        if recorded is not None or self.built:
            return recorded or ((), ())
        params, state = self._own_variables_tree("params"), self._own_variables_tree("state")
        if params is None and state is None:
            return ((), ())
        skip = set(self.__dict__.get("_seed_generators", {}))
        created = _CREATION_ORDER.get(self, (((), ()), None))[0]
        return tuple(tuple(n for n in _in_creation_order(tree or {}, names) if n not in skip)
                     for tree, names in zip((params, state), created))

    @_weight_names.setter
    def _weight_names(self, value):
        self.__dict__["_recorded_weight_names"] = value

    def _own_leaves(self, params, state, seeds=False):
        pnames, snames = self._weight_names
        # A never-built layer lists nested dicts too (MultiHeadAttention's projections,
        # which its `build` makes into sub-layers), in creation order: Keras' order.
        nested = not self.built
        leaves = [("params", p) for n in pnames if n in params
                  for p in _paths(params[n], (n,), nested)]
        leaves += [("state", p) for n in snames if n in state
                   for p in _paths(state[n], (n,), nested)]
        if seeds:
            leaves += [("state", (n,)) for n in self.__dict__.get("_seed_generators", {})
                       if n in state]
        return leaves

    def _weight_leaves(self, variables):
        """Leaves of `variables` in Keras' weight order: own params, own state, children."""
        return self._leaves(variables, seeds=False)

    def _variable_leaves(self, variables):
        """Keras' `layer.variables` order: like `_weight_leaves`, with SeedGenerator states
        after the layer's own weights (they are not weights: `get_weights` omits them)."""
        return self._leaves(variables, seeds=True)

    def _leaves(self, variables, seeds):
        params, state = variables.get("params", {}), variables.get("state", {})
        leaves = self._own_leaves(params, state, seeds)
        for name, child in self._children().items():
            sub = {"params": params.get(name, {}), "state": state.get(name, {})}
            child_leaves = child._variable_leaves(sub) if seeds else child._weight_leaves(sub)
            leaves += [(coll, (name,) + path) for coll, path in child_leaves]
        return leaves

    @property
    def variables(self):
        """Keras' `layer.variables`: the views of the layer's weights and `SeedGenerator`
        states in Keras' order (an empty list before it is built). The list also reads as
        the layer's current `{"params": ..., "state": ...}` tree (`variables["params"]`,
        `apply(layer.variables, x)`, `jax.tree.map`): see `VariableList`.

        Example:
        >>> import numpy as np, kerax
        >>> bn = kerax.layers.BatchNormalization(name="bn")
        >>> _ = bn(np.ones((2, 3)))
        >>> [v.name for v in bn.variables]
        ['gamma', 'beta', 'moving_mean', 'moving_variance']
        >>> sorted(bn.variables["state"])
        ['moving_mean', 'moving_variance']
        """
        tree = self._variables
        views = [] if tree is None else views_for(self, self._variable_leaves(tree))
        return VariableList(views, tree, self.name)

    @variables.setter
    def variables(self, value):
        """Sets the layer's variables from a `{"params": ..., "state": ...}` tree (what
        `init` returns), or from another layer's `variables`."""
        self._variables = as_tree(value)

    @property
    def trainable_variables(self):
        """Keras' `trainable_variables`: the trainable weights (views)."""
        return self.trainable_weights

    @property
    def non_trainable_variables(self):
        """Keras' `non_trainable_variables`: non-trainable weights and SeedGenerator states."""
        return [v for v in self.variables if not v.trainable]

    def _keras_variable_layout(self):
        """`(trainable, non_trainable)` leaves `(collection, path)` in Keras' order (the
        lists of `stateless_call`)."""
        leaves = self._variable_leaves(self._variables)
        flags = [v.trainable for v in views_for(self, leaves)]
        return ([leaf for leaf, t in zip(leaves, flags) if t],
                [leaf for leaf, t in zip(leaves, flags) if not t])

    def get_weights(self):
        """The layer's weights as NumPy arrays, in Keras 3's order.

        Example:
        >>> import numpy as np
        >>> from kerax.layers import Dense
        >>> layer = Dense(2)
        >>> _ = layer(np.ones((1, 3)))
        >>> [w.shape for w in layer.get_weights()]
        [(3, 2), (2,)]
        """
        self._require_built("get_weights")
        return [_to_numpy(get_path(self._variables[c], p))
                for c, p in self._weight_leaves(self._variables)]

    def set_weights(self, weights):
        """Sets the weights from NumPy arrays in Keras 3's order (shapes are checked)."""
        self._require_built("set_weights")
        leaves = self._weight_leaves(self._variables)
        weights = list(weights)
        if len(weights) != len(leaves):
            raise ValueError(
                f"Layer '{self.name}' expects {len(leaves)} weight arrays, "
                f"but `set_weights` received {len(weights)}."
            )
        new = jax.tree_util.tree_map(lambda x: x, self._variables)
        for (coll, path), w in zip(leaves, weights):
            old = get_path(new[coll], path)
            w = np.asarray(w)
            if tuple(w.shape) != tuple(old.shape):
                raise ValueError(
                    f"Layer '{self.name}': weight {'/'.join(path)} expects shape "
                    f"{tuple(old.shape)}, but `set_weights` received shape {tuple(w.shape)}."
                )
            _set_path(new[coll], path, jnp.asarray(w, old.dtype))
        self._variables = new

    @property
    def weights(self):
        """Keras' `layer.weights`: the (stable) variable views of every weight, in Keras'
        order; `layer.weights[0] is layer.kernel`."""
        variables = self._variables
        if variables is None:
            return []
        return views_for(self, self._weight_leaves(variables))

    @property
    def trainable_weights(self):
        return [w for w in self.weights if w.trainable]

    @property
    def non_trainable_weights(self):
        return [w for w in self.weights if not w.trainable]

    def _own_weights(self):
        """The views of the layer's own weights (not its sub-layers'), in Keras' order."""
        variables = self._variables
        if variables is None:
            return []
        return views_for(self, self._own_leaves(variables.get("params", {}),
                                                variables.get("state", {})))

    def save_own_variables(self, store):
        """Keras' `save_own_variables`: puts the layer's own weights into `store` (a dict
        that saving writes to the file) as `store["0"]`, `store["1"]`, ... Override it
        (and `load_own_variables`) to save other state with them.

        Example:
        >>> import numpy as np
        >>> from kerax.layers import Dense
        >>> layer = Dense(2)
        >>> _ = layer(np.ones((1, 3)))
        >>> store = {}
        >>> layer.save_own_variables(store)
        >>> {k: v.shape for k, v in store.items()}
        {'0': (3, 2), '1': (2,)}
        """
        for i, v in enumerate(self._own_weights()):
            store[str(i)] = _to_numpy(v)

    def load_own_variables(self, store):
        """Keras' `load_own_variables`: assigns `store["0"]`, `store["1"]`, ... (what
        `save_own_variables` wrote) to the layer's own weights."""
        own = self._own_weights()
        if len(store) != len(own):
            raise ValueError(
                f"Layer '{self.name}' expected {len(own)} variables, but received "
                f"{len(store)} variables during loading. Expected: "
                f"{[v.name for v in own]}. If the layer saves other state, override "
                "`load_own_variables` along with `save_own_variables`.")
        for i, v in enumerate(own):
            v.assign(store[str(i)])

    def count_params(self):
        """Number of scalars in the layer's weights."""
        self._require_built("count_params")
        return int(sum(np.prod(w.shape) for w in self.weights))

    def trainable_mask(self, params):
        """A pytree of bools like `params`: which leaves the optimizer updates."""
        if not self.trainable:
            return jax.tree_util.tree_map(lambda _: False, params)
        children = self._children()
        out = {}
        for name, value in params.items():
            if name in children and isinstance(value, dict):
                out[name] = children[name].trainable_mask(value)
            else:
                out[name] = jax.tree_util.tree_map(lambda _: True, value)
        return out

    def _require_built(self, what):
        if self._variables is None:
            raise ValueError(
                f"Layer '{self.name}' is not built yet, so `{what}` has nothing to return. "
                "Call it on an input first (or `build(input_shape)`)."
            )


def is_leaf(x):
    """Whether `x` is a variable (not a sub-layer's dict) in a layer's variables."""
    return not isinstance(x, dict)


def _to_numpy(a):
    """A whole host copy; an array split across processes is gathered (a collective: with
    several processes, every process calls `get_weights`, as every process runs `fit`)."""
    if isinstance(a, jax.Array) and not a.is_fully_addressable and not a.is_fully_replicated:
        from jax.experimental import multihost_utils

        return np.asarray(multihost_utils.process_allgather(a, tiled=True))
    return np.asarray(a)


def get_path(tree, path):
    for p in path:
        tree = tree[p]
    return tree


def _set_path(tree, path, value):
    for p in path[:-1]:
        tree = tree[p]
    tree[path[-1]] = value


def _paths(tree, path, nested):
    if is_leaf(tree):
        return [path]
    if not nested or not isinstance(tree, dict):
        return []
    return [p for k, v in tree.items() for p in _paths(v, path + (k,), nested)]
