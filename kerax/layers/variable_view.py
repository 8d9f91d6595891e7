"""Keras-style variables: stable views on one leaf of a layer's variables.

`VariableView` is what `add_weight` returns, what `layer.kernel` and `layer.weights` give,
and what a `keras.Variable` is to user code. One view exists per variable (the layer that
owns the variable caches it), so `layer.kernel is layer.weights[0]` and
`layer.weights == [w, b]` hold, as in Keras. A view holds no array: it reads the value
that is current —

- inside a pure call (`apply`, `fit`'s step, `jit`), the array of the running scope of
  its layer or of an ancestor; `assign` there records the new value in that scope, so
  the rest of the call uses it and non-trainable values come back as updated state
  (Keras' stateless scope);
- otherwise the layer's stored variables (`layer.variables`); `assign` writes them, and
  the next `predict`/`fit` uses the new value.
"""

from kerax.backend.array_view import ArrayView, register_view_type
from kerax.backend import apply_scope as scope_lib


@register_view_type
class VariableView(ArrayView):
    """A named handle on the variable `name` in `layer`'s `collection` (params/state).

    Example:
    >>> import numpy as np
    >>> from kerax.layers import Dense
    >>> layer = Dense(2, name="dense")
    >>> _ = layer(np.ones((1, 3)))
    >>> layer.kernel is layer.weights[0], layer.kernel.path
    (True, 'dense/kernel')
    >>> _ = layer.bias.assign([1.0, 2.0])
    >>> layer(np.zeros((1, 3))).tolist()
    [[1.0, 2.0]]
    """

    def __init__(self, layer, collection, name):
        self._layer = layer
        self._collection = collection
        self._path = (name,)

    @property
    def path(self):
        """Keras' path: the names of the layers it was built under, then its name."""
        return f"{self._layer._variable_path_prefix()}/{self._path[0]}"

    @property
    def trainable(self):
        if self._collection != "params" or not self._layer.trainable:
            return False
        frozen = getattr(type(self._layer), "_frozen_params", None)  # LoRA's base weight
        params = scope_lib.variables_for(self._layer, "params") or {}
        return frozen is None or self._path[0] not in frozen(self._layer, params)

    @property
    def regularizer(self):
        """The regularizer the owning layer applies to this variable (Keras'
        `Variable.regularizer`), or `None`."""
        return self._rule()[0]

    @property
    def constraint(self):
        """The constraint the owning layer applies to this variable after each update
        (Keras' `Variable.constraint`), or `None`."""
        return self._rule()[1]

    def _rule(self):
        if self._collection != "params":
            return None, None
        rules = getattr(self._layer, "param_rules", None)
        rule = rules().get(self._path[0]) if rules is not None else None
        return rule if isinstance(rule, tuple) else (None, None)

    @property
    def value(self):
        tree = scope_lib.variables_for(self._layer, self._collection)
        if tree is None or self._path[0] not in tree:
            raise ValueError(
                f"Variable '{self.path}' has no value yet: layer '{self._layer.name}' is not "
                "built. Call the layer on an input (or `build(input_shape)`) first."
            )
        return tree[self._path[0]]

    def _write(self, value):
        if not scope_lib.assign_in_scope(self._layer, self._collection, self._path[0], value):
            self._layer._assign_own(self._collection, self._path[0], value)


def views_for(layer, leaves):
    """The cached views of `(collection, path)` leaves relative to `layer` (Keras' lists)."""
    out, children = [], {}
    for coll, path in leaves:
        owner = layer
        for p in path[:-1]:
            if id(owner) not in children:
                children[id(owner)] = owner._children()
            owner = children[id(owner)][p]
        out.append(owner._view(coll, path[-1]))
    return out
