"""Keras 3's dtype names and promotion rules (`keras.backend.result_type`), for JAX.

Keras promotes dtypes on a lattice close to JAX's: Python `int`/`float` are "weak" and
take the dtype of the array they meet, and 64-bit results shrink to 32 bits (JAX runs
without x64 by default). Weak floats resolve to `floatx()`.
"""

import functools

import jax.numpy as jnp

from kerax.backend import config

ALLOWED_DTYPES = (
    "float16", "float32", "float64", "uint8", "uint16", "uint32", "uint64", "int8",
    "int16", "int32", "int64", "bfloat16", "bool", "string", "float8_e4m3fn",
    "float8_e5m2", "complex64", "complex128",
)
_PYTHON_DTYPES = {bool: "bool", int: "int32", float: "float32", str: "string",
                  "int": "int32", complex: "complex64"}
_TO_32_BITS = {"int64": "int32", "uint64": "uint32", "float64": "float32",
               "complex128": "complex64"}

# Each dtype points at the dtypes directly above it; "int"/"float" are weak Python types.
_LATTICE = {
    "bool": ["int"], "int": ["uint8", "int8", "complex64"], "float": ["bfloat16", "float16"],
    "uint8": ["int16", "uint16"], "uint16": ["int32", "uint32"],
    "uint32": ["int64", "uint64"], "uint64": ["float"],
    "int8": ["int16"], "int16": ["int32"], "int32": ["int64"], "int64": ["float"],
    "bfloat16": ["float32"], "float16": ["float32"], "float32": ["float64", "complex64"],
    "float64": ["complex128"], "complex64": ["complex128"], "complex128": [],
}


def _upper_bounds(node):
    seen, todo = {node}, [node]
    while todo:
        for up in _LATTICE[todo.pop()]:
            if up not in seen:
                seen.add(up)
                todo.append(up)
    return seen


_UPPER = {n: _upper_bounds(n) for n in _LATTICE}


def standardize_dtype(dtype):
    """Returns Keras' string name of `dtype` (`None` means `floatx()`).

    Example:
    >>> standardize_dtype(jnp.float32)
    'float32'
    """
    if dtype is None:
        return config.floatx()
    dtype = _PYTHON_DTYPES.get(dtype, dtype)
    if hasattr(dtype, "name"):
        dtype = dtype.name
    elif hasattr(dtype, "__name__"):
        dtype = dtype.__name__
    elif "jax.numpy" in str(dtype) or "torch" in str(dtype):
        dtype = str(dtype).split(".")[-1]
    if dtype not in ALLOWED_DTYPES:
        raise ValueError(
            f"Invalid dtype: {dtype!r}. Expected one of {', '.join(ALLOWED_DTYPES)}."
        )
    return dtype


@functools.lru_cache(512)
def _least_upper_bound(*nodes):
    for n in nodes:
        if n not in _UPPER:
            raise ValueError(f"{n!r} is not a valid dtype for type promotion.")
    common = set.intersection(*(_UPPER[n] for n in nodes))
    least = (common & set(nodes)) or {c for c in common if common <= _UPPER[c]}
    if len(least) != 1:
        raise ValueError(
            f"Input dtypes {nodes} have no implicit promotion path. "
            "Cast the inputs to the dtype you want first."
        )
    return least.pop()


def _weak_name(dtype):
    if dtype == "bool":
        return dtype
    return "float" if "float" in dtype else ("int" if "int" in dtype else "complex")


def result_type(*dtypes):
    """The dtype Keras' promotion rules give for `dtypes` (Python `int`/`float` are weak).

    Example:
    >>> result_type("int32", "float16")
    'float16'
    >>> result_type("bfloat16", float)
    'bfloat16'
    """
    if not dtypes:
        return config.floatx()
    items = [(standardize_dtype(config.floatx() if d is None else d), d in (int, float))
             for d in dtypes]
    names = {d for d, _ in items}
    if len(items) == 1 or (len(names) == 1 and not all(w for _, w in items)):
        out, weak = items[0][0], items[0][1]
    elif all(w for _, w in items):
        out, weak = _least_upper_bound(*names), True
    else:
        out = _least_upper_bound(*{_weak_name(d) if w else d for d, w in items})
        weak = out in ("int", "float")
    if weak and out != "bool":
        bits = config.floatx()[-2:]
        kind = {"i": "int", "u": "uint"}.get(out[0], "float")
        out = f"{kind}{bits}"
    return _TO_32_BITS.get(out, out)
