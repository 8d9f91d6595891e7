"""Symbolic tensors for the functional API: a shape, a dtype, and where they came from."""

import jax
import jax.numpy as jnp

from kerax.backend import config as _config


# The size that stands for an unknown non-batch dimension while layers are built and
# traced; `_unknown_inner_dims` traces at this size and at `UNKNOWN_SIZE * 3 // 2`.
UNKNOWN_SIZE = 64


_STRING_DTYPES = ("string", "str", "bytes", "object")


def dtype_name(dtype):
    """A dtype's name; Keras' `"string"` (str, bytes, object arrays) stays `"string"`.

    Strings never enter XLA: a `"string"` tensor feeds host layers (`TextVectorization`,
    `StringLookup`), whose abstract form is an object-dtype `jax.ShapeDtypeStruct`.

    Example:
    >>> dtype_name("string"), dtype_name(str), dtype_name("int64")
    ('string', 'string', 'int64')
    """
    if dtype in (str, bytes, object) or (isinstance(dtype, str) and dtype in _STRING_DTYPES):
        return "string"
    dtype = jnp.dtype(dtype)
    return "string" if dtype.kind in "USO" else dtype.name


def as_jax_dtype(name):
    """The dtype of a `jax.ShapeDtypeStruct` for a dtype name (`"string"`: object)."""
    return jnp.dtype(object) if name == "string" else jnp.dtype(name)


class KerasTensor:
    """A symbolic tensor: what `kerax.Input` returns and layers return on symbolic inputs.

    Its Python operators (`x + 1`, `x[0]`, ...) call `kerax.ops`, which installs them
    (`kerax.ops.symbolic`: ops sit above the backend).

    Example:
    >>> import kerax
    >>> x = kerax.Input(shape=(4,))
    >>> x.shape
    (None, 4)
    """

    def __init__(self, shape, dtype=None, name=None, history=None):
        self.shape = tuple(None if d is None else int(d) for d in shape)
        self.dtype = dtype_name(dtype or _config.floatx())
        self.name = name
        self._keras_history = history  # (layer, node_index, tensor_index)

    @property
    def ndim(self):
        return len(self.shape)

    def spec(self, batch_size=1):
        """A `jax.ShapeDtypeStruct` with unknown dimensions set to `batch_size`."""
        return jax.ShapeDtypeStruct(
            tuple(batch_size if d is None else d for d in self.shape), as_jax_dtype(self.dtype)
        )

    def build_spec(self):
        """A `jax.ShapeDtypeStruct` to build layers with: an unknown batch axis is 1 and
        other unknown dimensions are `UNKNOWN_SIZE`, a size every layer accepts (a length
        of 1 is too short for `Cropping1D(1)` or a valid 3-wide convolution)."""
        return jax.ShapeDtypeStruct(
            tuple((1 if i == 0 else UNKNOWN_SIZE) if d is None else d
                  for i, d in enumerate(self.shape)), as_jax_dtype(self.dtype))

    def __iter__(self):
        raise NotImplementedError(
            "Iterating over a symbolic tensor is not supported: its values are only known "
            "when the model runs. Index it (`x[:, 0]`) or use `kerax.ops.unstack(x)`."
        )

    def __bool__(self):
        raise TypeError(
            "A symbolic tensor cannot be used as a Python bool (e.g. in `if x:`): its value "
            "is only known when the model runs. Use `kerax.ops.where` or `kerax.ops.cond`."
        )

    def __repr__(self):
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, name={self.name}>"


def is_keras_tensor(x):
    """Whether `x` is a symbolic tensor (a `kerax.KerasTensor`, e.g. from `kerax.Input`).

    Example:
    >>> import numpy as np, kerax
    >>> kerax.utils.is_keras_tensor(kerax.Input((3,))), kerax.utils.is_keras_tensor(np.ones(3))
    (True, False)
    """
    return isinstance(x, KerasTensor)
