"""`ArrayView`: what a `keras.Variable` is to user code, over a value kept elsewhere.

A view holds no array: `.value` reads the current one from wherever its owner keeps it
(a layer's variables, a scope of a running `apply`, a generator's state), and `.assign`
writes there. Everything else a `keras.Variable` offers — `.numpy()`, `np.asarray(v)`,
`.shape`, `.dtype`, arithmetic, `jnp.*` functions — is derived from `.value` here.

A view is a pytree node whose one leaf is its value (and which unflattens to that bare
value), so `jnp` functions, `jax.jit` and `jax.tree_util` accept it as the array it stands
for.
"""

import jax
import jax.numpy as jnp
import numpy as np


class ArrayView:
    """Array behaviour derived from `.value`; subclasses define `value`, `_write`, `path`.

    Example:
    >>> @register_view_type
    ... class Box(ArrayView):
    ...     def __init__(self, x):
    ...         self.x = x
    ...     value = property(lambda self: self.x)
    ...     def _write(self, value):
    ...         self.x = value
    >>> b = Box(jnp.ones(2))
    >>> _ = b.assign_add(1.0)
    >>> float(jnp.sum(b)), (b * 2).tolist()
    (4.0, [4.0, 4.0])
    """

    @property
    def value(self):
        raise NotImplementedError

    def _write(self, value):
        raise NotImplementedError

    @property
    def name(self):
        return self._path[-1]

    @property
    def shape(self):
        return tuple(self.value.shape)

    @property
    def dtype(self):
        """A NumPy dtype: equal to Keras' dtype string (`"float32"`) and to `jnp.float32`."""
        return jnp.dtype(self.value.dtype)

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        return int(np.prod(self.shape))

    def numpy(self):
        return np.asarray(self.value)

    def assign(self, value):
        """Sets the value (same shape; cast to the variable's dtype); returns the view."""
        current = self.value
        value = jnp.asarray(value.value if isinstance(value, ArrayView) else value,
                            current.dtype)
        if tuple(value.shape) != tuple(current.shape):
            raise ValueError(
                f"Cannot assign a value of shape {tuple(value.shape)} to variable "
                f"'{self.path}' of shape {tuple(current.shape)}. Pass a value of shape "
                f"{tuple(current.shape)}."
            )
        self._write(value)
        return self

    def assign_add(self, value):
        return self.assign(self.value + _raw(value))

    def assign_sub(self, value):
        return self.assign(self.value - _raw(value))

    # --- array behaviour -------------------------------------------------------------
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

    def __iter__(self):
        return iter(self.value)

    def __bool__(self):
        return bool(self.value)

    def __float__(self):
        return float(self.value)

    def __int__(self):
        return int(self.value)

    def __index__(self):
        return int(self.value)

    def tolist(self):
        return self.value.tolist()

    def item(self):
        return self.value.item()

    def astype(self, dtype):
        return self.value.astype(dtype)

    def reshape(self, *shape):
        return self.value.reshape(*shape)

    @property
    def T(self):
        return self.value.T

    # Elementwise, as Keras' `Variable.__eq__`; lists of the same views still compare
    # equal (`layer.weights == [w, b]`) because views are stable objects.
    def __eq__(self, other):
        return self.value == _raw(other)

    def __ne__(self, other):
        return self.value != _raw(other)

    __hash__ = object.__hash__


def _raw(x):
    return x.value if isinstance(x, ArrayView) else x


def _binary(name):
    def op(self, other):
        return getattr(self.value, name)(_raw(other))

    return op


def _unary(name):
    return lambda self: getattr(self.value, name)()


for _n in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or",
           "xor", "lshift", "rshift"):
    for _f in (f"__{_n}__", f"__r{_n}__"):
        if hasattr(jax.Array, _f):
            setattr(ArrayView, _f, _binary(_f))
for _f in ("__lt__", "__le__", "__gt__", "__ge__"):
    setattr(ArrayView, _f, _binary(_f))
for _n in ("__neg__", "__pos__", "__abs__", "__invert__"):
    setattr(ArrayView, _n, _unary(_n))


def register_view_type(cls):
    """Makes `cls` (an `ArrayView` subclass) a pytree node whose leaf is its value."""
    jax.tree_util.register_pytree_node(cls, lambda v: ((v.value,), None),
                                       lambda _, children: children[0])
    return cls
