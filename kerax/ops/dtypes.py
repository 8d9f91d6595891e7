"""The dtype helpers `kerax.ops` computes with, over Keras 3's promotion lattice.

The lattice itself (`standardize_dtype`, `result_type`) is `kerax.backend.promotion`.
"""

import jax.numpy as jnp

from kerax.backend.promotion import ALLOWED_DTYPES, result_type, standardize_dtype  # noqa: F401


def dtype_of(x):
    """Keras' dtype name of `x` once converted to an array (Python floats become float32)."""
    return standardize_dtype(x.dtype if hasattr(x, "dtype") else jnp.asarray(x).dtype)


def float_dtype(*xs):
    """The float dtype an op on `xs` computes in: `result_type(*dtypes, float)`."""
    return result_type(*(dtype_of(x) for x in xs), float)


def cast_to(x, dtype):
    """`x` as a JAX array of `dtype` (no copy when it already is)."""
    x = jnp.asarray(x)
    return x if x.dtype == dtype else x.astype(dtype)
