"""Keras-style variable views over a layer's pytree.

A `VariableView` is what `layer.weights` lists and what `add_weight` returns: it has
Keras' `.name`, `.path`, `.shape`, `.dtype`, `.trainable`, `.numpy()`, `.assign()`, and
reads its value from the pytree that is current — the active `apply` scope of its layer
inside a pure call, or the layer's own variables in eager use.
"""

import jax.numpy as jnp
import numpy as np

from kerax.layers import scope as scope_lib


class VariableView:
    """A named handle on one leaf of a layer's `{"params", "state"}` pytree."""

    def __init__(self, layer, collection, path):
        self._layer = layer
        self._collection = collection
        self._path = tuple(path)

    # --- Keras' attributes ---------------------------------------------------------------
    @property
    def name(self):
        return self._path[-1]

    @property
    def path(self):
        return "/".join((self._layer.name,) + self._path)

    @property
    def trainable(self):
        if self._collection != "params":
            return False
        owner = self._layer
        mask = owner.trainable_mask(owner.variables["params"])
        for p in self._path:
            mask = mask[p]
        return bool(mask)

    @property
    def value(self):
        sc = scope_lib.scope_for(self._layer)
        tree = None
        if sc is not None and len(self._path) == 1:
            tree = sc.params if self._collection == "params" else sc.state
        elif self._layer.variables is not None:
            tree = self._layer.variables[self._collection]
        if tree is None:
            raise ValueError(f"Variable '{self.path}' has no value: build the layer first.")
        for p in self._path:
            tree = tree[p]
        return tree

    @property
    def shape(self):
        return tuple(self.value.shape)

    @property
    def dtype(self):
        return jnp.dtype(self.value.dtype).name

    @property
    def ndim(self):
        return len(self.shape)

    def numpy(self):
        return np.asarray(self.value)

    def assign(self, value):
        """Sets the value: inside `call` (non-trainable state) or on the layer's variables."""
        value = jnp.asarray(value, self.value.dtype)
        if tuple(value.shape) != self.shape:
            raise ValueError(
                f"Cannot assign a value of shape {tuple(value.shape)} to variable "
                f"'{self.path}' of shape {self.shape}."
            )
        sc = scope_lib.scope_for(self._layer)
        if sc is not None and len(self._path) == 1:
            target = sc.params if self._collection == "params" else sc.state
            target[self._path[0]] = value
            return self
        variables = self._layer.variables
        tree = {c: dict(v) for c, v in variables.items()}
        node = tree[self._collection]
        for p in self._path[:-1]:
            node[p] = dict(node[p])
            node = node[p]
        node[self._path[-1]] = value
        self._layer.variables = tree
        return self

    def assign_add(self, value):
        return self.assign(self.value + value)

    def assign_sub(self, value):
        return self.assign(self.value - value)

    # --- array behaviour -------------------------------------------------------------------
    def __jax_array__(self):
        return self.value

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.value, dtype=dtype)

    def __repr__(self):
        return f"<Variable path={self.path}, shape={self.shape}, dtype={self.dtype}>"

    def __len__(self):
        return self.shape[0]

    def __getitem__(self, idx):
        return self.value[idx]

    def astype(self, dtype):
        return self.value.astype(dtype)

    @property
    def T(self):
        return self.value.T


def _binary(name):
    def op(self, other):
        if isinstance(other, VariableView):
            other = other.value
        return getattr(self.value, name)(other)

    return op


def _unary(name):
    return lambda self: getattr(self.value, name)()


for _n in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or",
           "xor", "lt", "le", "gt", "ge", "eq", "ne"):
    for _f in (f"__{_n}__", f"__r{_n}__"):
        if hasattr(jnp.ndarray, _f) or _n in ("lt", "le", "gt", "ge", "eq", "ne"):
            setattr(VariableView, _f, _binary(_f))
for _n in ("__neg__", "__pos__", "__abs__", "__invert__"):
    setattr(VariableView, _n, _unary(_n))
VariableView.__hash__ = object.__hash__
