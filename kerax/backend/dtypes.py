"""Keras' dtype helpers in `kerax.backend`: names, kinds and promotion.

`standardize_dtype` is the one in `kerax.backend.promotion`, and `result_type` uses its
promotion lattice (Keras 3's); this module adds Keras' float8 rule and the kind tests.
"""

from kerax.backend import promotion as _promotion
from kerax.backend.promotion import standardize_dtype  # noqa: F401

_FLOAT8 = ("float8_e4m3fn", "float8_e5m2")


def result_type(*dtypes):
    """The dtype of an operation on `dtypes` under Keras 3's promotion rules.

    Python `int` and `float` are "weak": they take the kind of the array they meet
    (`result_type("bfloat16", float)` is `bfloat16`); 64-bit results become 32-bit, as
    JAX without x64; `None` means `floatx()`; no argument gives `floatx()`.

    Args:
        *dtypes: dtypes, dtype names or Python types.

    Raises:
        ValueError: for a float8 dtype (cast it first, as Keras requires), or dtypes
            without a common promotion.

    Example:
    >>> result_type("int32", "float16"), result_type("uint8", int)
    ('float16', 'uint8')
    """
    for dtype in dtypes:
        if isinstance(dtype, str) and dtype in _FLOAT8:
            raise ValueError(
                f"result_type(): float8 dtypes do not promote implicitly. Received: {dtypes}. "
                "Cast the float8 values to the dtype you want first (`kerax.ops.cast`)."
            )
    return _promotion.result_type(*dtypes)


def is_float_dtype(dtype):
    """Whether `dtype` is a float type (`float16/32/64`, `bfloat16`, float8 types).

    Args:
        dtype: a dtype, a dtype name, or a Python type (`float`, `int`, `bool`).

    Raises:
        ValueError: if `dtype` is not a dtype Keras knows.

    Example:
    >>> is_float_dtype("bfloat16"), is_float_dtype("int8")
    (True, False)
    """
    dtype = standardize_dtype(dtype)
    return dtype.startswith("float") or dtype.startswith("bfloat")


def is_int_dtype(dtype):
    """Whether `dtype` is a signed or unsigned integer type (not `bool`).

    Args:
        dtype: a dtype, a dtype name, or a Python type.

    Raises:
        ValueError: if `dtype` is not a dtype Keras knows.

    Example:
    >>> is_int_dtype("uint8"), is_int_dtype(bool)
    (True, False)
    """
    dtype = standardize_dtype(dtype)
    return dtype.startswith("int") or dtype.startswith("uint")
