"""NumPy-like ops, as `keras.ops.numpy`: thin functions over `jax.numpy`.

Where `jax.numpy` already does what Keras does (names, arguments, dtypes), the op is a
table entry below; the rest are small functions that fix arguments or result dtypes.

Example:
>>> import kerax
>>> kerax.ops.add(jnp.array([1, 2]), 3).tolist()
[4, 5]
"""

import builtins
import inspect

import jax
import jax.numpy as jnp

from kerax.backend import config
from kerax.ops.core import cast, convert_to_tensor
from kerax.ops.dtypes import dtype_of, float_dtype, result_type, standardize_dtype

_t = convert_to_tensor


def _unary(name):
    fn = getattr(jnp, name)

    def op(x):
        return fn(_t(x))

    op.__doc__ = f"Element-wise `{name}` of `x`, as `keras.ops.{name}` (`jnp.{name}`)."
    return op


def _binary(name, jnp_name=None, args=("x1", "x2")):
    fn = getattr(jnp, jnp_name or name)

    def op(x1, x2):
        return fn(_in(x1), _in(x2))

    params = [inspect.Parameter(a, inspect.Parameter.POSITIONAL_OR_KEYWORD) for a in args]
    op.__signature__ = inspect.Signature(params)
    op.__doc__ = f"Element-wise `{name}`, as `keras.ops.{name}` (`jnp.{jnp_name or name}`)."
    return op


def _in(x):
    """Lists become arrays; Python scalars stay weak so they take the other input's dtype."""
    return _t(x) if isinstance(x, (list, tuple)) else x


_UNARY = """abs absolute angle arccos arccosh arcsin arcsinh arctan arctanh cbrt conj
conjugate copy cos cosh deg2rad exp exp2 expm1 fabs isfinite isinf isnan isneginf isposinf
isreal log log10 log1p log2 logical_not negative rad2deg ravel real imag reciprocal sign
signbit sin sinc sinh sqrt square tan tanh trunc i0 fliplr flipud corrcoef""".split()
_BINARY = """add subtract multiply divide true_divide power maximum minimum mod fmod
floor_divide equal not_equal greater greater_equal less less_equal logical_and logical_or
logical_xor hypot heaviside gcd lcm nextafter outer inner kron vdot dot fmax fmin""".split()
_BITWISE = {"bitwise_and": None, "bitwise_or": None, "bitwise_xor": None,
            "bitwise_left_shift": "left_shift", "bitwise_right_shift": "right_shift",
            "left_shift": None, "right_shift": None}

for _name in _UNARY:
    globals()[_name] = _unary(_name)
    globals()[_name].__name__ = _name
for _name in _BINARY:
    globals()[_name] = _binary(_name)
    globals()[_name].__name__ = _name
for _name, _jnp_name in _BITWISE.items():
    globals()[_name] = _binary(_name, _jnp_name, args=("x", "y"))
    globals()[_name].__name__ = _name


def bitwise_invert(x):
    """Element-wise bitwise NOT (`~x`)."""
    return jnp.invert(_t(x))


bitwise_not = bitwise_invert


def _floats(*xs):
    dtype = float_dtype(*xs)
    return [cast(x, dtype) for x in xs]


def ceil(x):
    """Element-wise ceiling; integer inputs give `floatx`-typed results, as in Keras.

    Example:
    >>> ceil(jnp.array([1.2, -1.2])).tolist()
    [2.0, -1.0]
    """
    return jnp.ceil(*_floats(x))


def floor(x):
    """Element-wise floor; integer inputs give float results, as in Keras."""
    return jnp.floor(*_floats(x))


def arctan2(x1, x2):
    """Element-wise `arctan(x1 / x2)` choosing the quadrant, in float."""
    return jnp.arctan2(*_floats(x1, x2))


def logaddexp(x1, x2):
    """Element-wise `log(exp(x1) + exp(x2))`, in float."""
    return jnp.logaddexp(*_floats(x1, x2))


def logaddexp2(x1, x2):
    """Element-wise `log2(2**x1 + 2**x2)`, in float."""
    return jnp.logaddexp2(*_floats(x1, x2))


def ldexp(x1, x2):
    """Element-wise `x1 * 2**x2`; `x2` must be an integer array."""
    x2 = _t(x2)
    if not jnp.issubdtype(x2.dtype, jnp.integer):
        raise TypeError(f"`ldexp` needs an integer `x2`. Received: x2.dtype={x2.dtype}")
    return jnp.ldexp(_t(x1), x2)


def matmul(x1, x2):
    """Matrix product; int8 inputs accumulate (and return) in int32, as in Keras.

    Example:
    >>> matmul(jnp.ones((2, 3)), jnp.ones((3, 1))).tolist()
    [[3.0], [3.0]]
    """
    x1, x2 = _t(x1), _t(x2)
    if x1.dtype == jnp.int8 and x2.dtype == jnp.int8:
        return jnp.matmul(x1, x2, preferred_element_type=jnp.int32)
    return jnp.matmul(x1, x2)


def divide_no_nan(x1, x2):
    """`x1 / x2`, with 0 where `x2 == 0`."""
    x1, x2 = _t(x1), _t(x2)
    safe = jnp.where(x2 == 0, 1, x2)
    return jnp.where(x2 == 0, 0, jnp.true_divide(x1, safe))


# Reductions.


def sum(x, axis=None, keepdims=False):
    """Sum of `x` over `axis`."""
    return jnp.sum(_t(x), axis=_axis(axis), keepdims=keepdims)


def prod(x, axis=None, keepdims=False, dtype=None):
    """Product of `x` over `axis`."""
    return jnp.prod(_t(x), axis=_axis(axis), keepdims=keepdims, dtype=dtype)


def mean(x, axis=None, keepdims=False):
    """Mean of `x` over `axis`; integers average in float."""
    x = _t(x)
    out = jnp.mean(x, axis=_axis(axis), keepdims=keepdims, dtype=_acc(x))
    return out.astype(float_dtype(x))


def _acc(x):
    """Low-precision floats accumulate in float32, as Keras does."""
    return jnp.float32 if x.dtype in (jnp.float16, jnp.bfloat16) else float_dtype(x)


def var(x, axis=None, keepdims=False):
    """Variance of `x` over `axis`."""
    x = _t(x)
    return jnp.var(x.astype(_acc(x)), axis=_axis(axis), keepdims=keepdims).astype(
        float_dtype(x)
    )


def std(x, axis=None, keepdims=False):
    """Standard deviation of `x` over `axis`."""
    x = _t(x)
    return jnp.std(x.astype(_acc(x)), axis=_axis(axis), keepdims=keepdims).astype(
        float_dtype(x)
    )


def max(x, axis=None, keepdims=False, initial=None):
    """Maximum of `x` over `axis`."""
    return jnp.max(_t(x), axis=_axis(axis), keepdims=keepdims, initial=initial)


def min(x, axis=None, keepdims=False, initial=None):
    """Minimum of `x` over `axis`."""
    return jnp.min(_t(x), axis=_axis(axis), keepdims=keepdims, initial=initial)


def amax(x, axis=None, keepdims=False):
    """Maximum of `x` over `axis`."""
    return jnp.amax(_t(x), axis=_axis(axis), keepdims=keepdims)


def amin(x, axis=None, keepdims=False):
    """Minimum of `x` over `axis`."""
    return jnp.amin(_t(x), axis=_axis(axis), keepdims=keepdims)


def all(x, axis=None, keepdims=False):
    """Whether all elements along `axis` are true."""
    return jnp.all(_t(x), axis=_axis(axis), keepdims=keepdims)


def any(x, axis=None, keepdims=False):
    """Whether any element along `axis` is true."""
    return jnp.any(_t(x), axis=_axis(axis), keepdims=keepdims)


def ptp(x, axis=None, keepdims=False):
    """Range (max - min) of `x` over `axis`."""
    return jnp.ptp(_t(x), axis=_axis(axis), keepdims=keepdims)


def argmax(x, axis=None, keepdims=False):
    """Index of the maximum along `axis`."""
    return jnp.argmax(_t(x), axis=axis, keepdims=keepdims).astype("int32")


def argmin(x, axis=None, keepdims=False):
    """Index of the minimum along `axis`."""
    return jnp.argmin(_t(x), axis=axis, keepdims=keepdims).astype("int32")


def count_nonzero(x, axis=None):
    """Number of non-zero elements along `axis`."""
    return jnp.count_nonzero(_t(x), axis=_axis(axis)).astype("int32")


def median(x, axis=None, keepdims=False):
    """Median of `x` over `axis`, in float."""
    x = _t(x)
    return jnp.median(x.astype(float_dtype(x)), axis=_axis(axis), keepdims=keepdims)


def quantile(x, q, axis=None, method="linear", keepdims=False):
    """The `q`-th quantile(s) of `x` over `axis`, in float."""
    x = _t(x)
    return jnp.quantile(x.astype(float_dtype(x)), _t(q), axis=_axis(axis), method=method,
                        keepdims=keepdims)


def percentile(x, q, axis=None, method="linear", keepdims=False):
    """The `q`-th percentile(s) of `x` over `axis`, in float."""
    x = _t(x)
    return jnp.percentile(x.astype(float_dtype(x)), _t(q), axis=_axis(axis), method=method,
                          keepdims=keepdims)


def average(x, axis=None, weights=None):
    """Weighted mean of `x` over `axis`."""
    x = _t(x)
    dtype = float_dtype(x) if weights is None else float_dtype(x, weights)
    w = None if weights is None else cast(weights, dtype)
    return jnp.average(x.astype(dtype), axis=axis, weights=w)


def _axis(axis):
    return tuple(axis) if isinstance(axis, list) else axis


# nan-aware reductions.


def _nan_reduce(name):
    fn = getattr(jnp, name)

    def op(x, axis=None, keepdims=False):
        return fn(_t(x), axis=_axis(axis), keepdims=keepdims)

    op.__name__ = name
    op.__doc__ = f"`{name[3:]}` of `x` over `axis`, ignoring NaNs (`jnp.{name}`)."
    return op


nanmax, nanmin, nansum, nanprod = (_nan_reduce(n) for n in ("nanmax", "nanmin", "nansum",
                                                           "nanprod"))


def _nan_float(name):
    fn = getattr(jnp, name)

    def op(x, axis=None, keepdims=False):
        x = _t(x)
        return fn(x.astype(float_dtype(x)), axis=_axis(axis), keepdims=keepdims)

    op.__name__ = name
    op.__doc__ = f"`{name[3:]}` of `x` over `axis` in float, ignoring NaNs (`jnp.{name}`)."
    return op


nanmean, nanmedian, nanstd, nanvar = (_nan_float(n) for n in ("nanmean", "nanmedian",
                                                              "nanstd", "nanvar"))


def nanargmax(x, axis=None, keepdims=False):
    """Index of the maximum along `axis`, ignoring NaNs."""
    return jnp.nanargmax(_t(x), axis=axis, keepdims=keepdims).astype("int32")


def nanargmin(x, axis=None, keepdims=False):
    """Index of the minimum along `axis`, ignoring NaNs."""
    return jnp.nanargmin(_t(x), axis=axis, keepdims=keepdims).astype("int32")


def nanquantile(x, q, axis=None, method="linear", keepdims=False):
    """`quantile`, ignoring NaNs."""
    x = _t(x)
    return jnp.nanquantile(x.astype(float_dtype(x)), _t(q), axis=_axis(axis), method=method,
                           keepdims=keepdims)


def nanpercentile(x, q, axis=None, method="linear", keepdims=False):
    """`percentile`, ignoring NaNs."""
    x = _t(x)
    return jnp.nanpercentile(x.astype(float_dtype(x)), _t(q), axis=_axis(axis),
                             method=method, keepdims=keepdims)


def cumsum(x, axis=None, dtype=None):
    """Cumulative sum along `axis` (over the flattened array when `axis` is None)."""
    return jnp.cumsum(_t(x), axis=axis, dtype=dtype)


def cumprod(x, axis=None, dtype=None):
    """Cumulative product along `axis`."""
    return jnp.cumprod(_t(x), axis=axis, dtype=dtype)


def nancumsum(x, axis=None, dtype=None):
    """Cumulative sum along `axis`, treating NaNs as 0."""
    return jnp.nancumsum(_t(x), axis=axis, dtype=dtype)


def nancumprod(x, axis=None, dtype=None):
    """Cumulative product along `axis`, treating NaNs as 1."""
    return jnp.nancumprod(_t(x), axis=axis, dtype=dtype)


# Creation.


def _dtype_or_floatx(dtype):
    return standardize_dtype(dtype or config.floatx())


def zeros(shape, dtype=None):
    """An array of zeros (`floatx` unless `dtype` is given).

    Example:
    >>> zeros((2,)).tolist()
    [0.0, 0.0]
    """
    return jnp.zeros(shape, _dtype_or_floatx(dtype))


def ones(shape, dtype=None):
    """An array of ones (`floatx` unless `dtype` is given)."""
    return jnp.ones(shape, _dtype_or_floatx(dtype))


def empty(shape, dtype=None):
    """An uninitialised array; in JAX it is filled with zeros."""
    return jnp.empty(shape, _dtype_or_floatx(dtype))


def full(shape, fill_value, dtype=None):
    """An array of `shape` filled with `fill_value` (`floatx` unless `dtype` is given)."""
    return jnp.full(shape, fill_value, dtype=_dtype_or_floatx(dtype))


def zeros_like(x, dtype=None):
    """Zeros with the shape (and dtype, unless given) of `x`."""
    return jnp.zeros_like(_t(x), dtype=dtype)


def ones_like(x, dtype=None):
    """Ones with the shape (and dtype, unless given) of `x`."""
    return jnp.ones_like(_t(x), dtype=dtype)


def empty_like(x, dtype=None):
    """An uninitialised array like `x`."""
    return jnp.empty_like(_t(x), dtype=dtype)


def full_like(x, fill_value, dtype=None):
    """`fill_value` with the shape (and dtype, unless given) of `x`."""
    return jnp.full_like(_t(x), fill_value, dtype=dtype)


def eye(N, M=None, k=0, dtype=None):
    """A 2-D array with ones on the `k`-th diagonal."""
    return jnp.eye(N, M, k=k, dtype=_dtype_or_floatx(dtype))


def identity(n, dtype=None):
    """The `n` x `n` identity matrix."""
    return jnp.identity(n, dtype=_dtype_or_floatx(dtype))


def tri(N, M=None, k=0, dtype=None):
    """Ones at and below the `k`-th diagonal."""
    return jnp.tri(N, M, k=k, dtype=_dtype_or_floatx(dtype))


def array(x, dtype=None):
    """Creates an array from `x`."""
    return jnp.array(x, dtype=dtype)


def arange(start, stop=None, step=None, dtype=None):
    """Evenly spaced values in `[start, stop)`.

    Example:
    >>> arange(3).tolist()
    [0, 1, 2]
    """
    if dtype is None:
        kinds = [type(v) if isinstance(v, (int, float)) else dtype_of(v)
                 for v in (start, stop, step) if v is not None]
        dtype = result_type(*kinds)
    return jnp.arange(start, stop, 1 if step is None else step, dtype=dtype)


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    """`num` evenly spaced values from `start` to `stop`."""
    return jnp.linspace(start, stop, num, endpoint=endpoint, retstep=retstep,
                        dtype=dtype or float_dtype(start, stop), axis=axis)


def logspace(start, stop, num=50, endpoint=True, base=10, dtype=None, axis=0):
    """`num` values evenly spaced on a log scale."""
    return jnp.logspace(start, stop, num, endpoint=endpoint, base=base,
                        dtype=dtype or float_dtype(start, stop), axis=axis)


def geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    """`num` values forming a geometric progression."""
    return jnp.geomspace(start, stop, num, endpoint=endpoint,
                         dtype=dtype or float_dtype(start, stop), axis=axis)


def _window(name):
    fn = getattr(jnp, name)

    def op(x):
        return fn(int(x)).astype(config.floatx())

    op.__name__ = name
    op.__doc__ = f"The `{name}` window of `x` points (`jnp.{name}`)."
    return op


bartlett, blackman, hamming, hanning = (_window(n) for n in ("bartlett", "blackman",
                                                             "hamming", "hanning"))


def kaiser(x, beta):
    """The Kaiser window of `x` points with shape parameter `beta`."""
    return jnp.kaiser(int(x), beta).astype(config.floatx())


def meshgrid(*x, indexing="xy"):
    """Coordinate matrices from coordinate vectors."""
    return jnp.meshgrid(*x, indexing=indexing)


def vander(x, N=None, increasing=False):
    """The Vandermonde matrix of `x`."""
    return jnp.vander(_t(x), N=N, increasing=increasing)


# Shapes and indexing.


def reshape(x, newshape):
    """`x` with a new shape."""
    return jnp.reshape(_t(x), newshape)


def transpose(x, axes=None):
    """`x` with its axes permuted."""
    return jnp.transpose(_t(x), axes)


def expand_dims(x, axis):
    """`x` with new axes of size 1 at `axis`."""
    return jnp.expand_dims(_t(x), _axis(axis))


def squeeze(x, axis=None):
    """`x` without its size-1 axes (or just `axis`)."""
    return jnp.squeeze(_t(x), _axis(axis))


def moveaxis(x, source, destination):
    """`x` with axes moved from `source` to `destination`."""
    return jnp.moveaxis(_t(x), source, destination)


def swapaxes(x, axis1, axis2):
    """`x` with two axes swapped."""
    return jnp.swapaxes(_t(x), axis1, axis2)


def broadcast_to(x, shape):
    """`x` broadcast to `shape`."""
    return jnp.broadcast_to(_t(x), shape)


def flip(x, axis=None):
    """`x` reversed along `axis` (all axes if None)."""
    return jnp.flip(_t(x), axis=_axis(axis))


def roll(x, shift, axis=None):
    """`x` rolled by `shift` along `axis`."""
    return jnp.roll(_t(x), shift, axis=axis)


def rot90(array, k=1, axes=(0, 1)):
    """`array` rotated by 90 degrees `k` times in the plane of `axes`."""
    return jnp.rot90(_t(array), k=k, axes=axes)


def tile(x, repeats):
    """`x` repeated `repeats` times along each axis."""
    return jnp.tile(_t(x), repeats)


def repeat(x, repeats, axis=None):
    """Each element of `x` repeated `repeats` times."""
    return jnp.repeat(_t(x), repeats, axis=axis)


def concatenate(xs, axis=0):
    """Joins arrays along an existing axis."""
    return jnp.concatenate([_t(x) for x in xs], axis=axis)


def append(x1, x2, axis=None):
    """`x2` appended to `x1` (flattened when `axis` is None)."""
    return jnp.append(_t(x1), _t(x2), axis=axis)


def stack(x, axis=0):
    """Joins arrays along a new axis."""
    return jnp.stack([_t(v) for v in x], axis=axis)


def hstack(xs):
    """Stacks arrays column-wise."""
    return jnp.hstack([_t(x) for x in xs])


def vstack(xs):
    """Stacks arrays row-wise."""
    return jnp.vstack([_t(x) for x in xs])


def dstack(xs):
    """Stacks arrays along the third axis."""
    return jnp.dstack([_t(x) for x in xs])


def split(x, indices_or_sections, axis=0):
    """Splits `x` into equal sections or at indices."""
    return jnp.split(_t(x), indices_or_sections, axis=axis)


def array_split(x, indices_or_sections, axis=0):
    """Splits `x` into sections that may differ in size by one."""
    return jnp.array_split(_t(x), indices_or_sections, axis=axis)


def hsplit(x, indices_or_sections):
    """Splits `x` column-wise."""
    return jnp.hsplit(_t(x), indices_or_sections)


def vsplit(x, indices_or_sections):
    """Splits `x` row-wise."""
    return jnp.vsplit(_t(x), indices_or_sections)


def dsplit(x, indices_or_sections):
    """Splits `x` along the third axis."""
    return jnp.dsplit(_t(x), indices_or_sections)


def get_item(x, key):
    """`x[key]`."""
    return _t(x)[key]


def take(x, indices, axis=None):
    """Elements of `x` at `indices` along `axis`."""
    return jnp.take(_t(x), _t(indices), axis=axis)


def take_along_axis(x, indices, axis=None):
    """Elements of `x` picked by `indices` along `axis`."""
    return jnp.take_along_axis(_t(x), _t(indices), axis=axis)


def diag(x, k=0):
    """The `k`-th diagonal of a matrix, or a diagonal matrix from a vector."""
    return jnp.diag(_t(x), k=k)


def diagflat(x, k=0):
    """A diagonal matrix with the flattened `x` on the `k`-th diagonal."""
    return jnp.diagflat(_t(x), k=k)


def diagonal(x, offset=0, axis1=0, axis2=1):
    """The diagonal of `x` in the plane of `axis1` and `axis2`."""
    return jnp.diagonal(_t(x), offset=offset, axis1=axis1, axis2=axis2)


def trace(x, offset=0, axis1=0, axis2=1):
    """Sum along a diagonal of `x`."""
    return jnp.trace(_t(x), offset=offset, axis1=axis1, axis2=axis2)


def tril(x, k=0):
    """`x` with entries above the `k`-th diagonal zeroed."""
    return jnp.tril(_t(x), k=k)


def triu(x, k=0):
    """`x` with entries below the `k`-th diagonal zeroed."""
    return jnp.triu(_t(x), k=k)


def where(condition, x1=None, x2=None):
    """`x1` where `condition` else `x2`; with one argument, the indices where it holds."""
    if x1 is None and x2 is None:
        return jnp.nonzero(_t(condition))
    if x1 is None or x2 is None:
        raise ValueError("`where` needs both `x1` and `x2`, or neither.")
    return jnp.where(_t(condition), _in(x1), _in(x2))


def nonzero(x):
    """Indices of the non-zero elements of `x`, one array per axis."""
    return tuple(i.astype("int32") for i in jnp.nonzero(_t(x)))


def select(condlist, choicelist, default=0):
    """Picks from `choicelist` by the first true condition in `condlist`."""
    return jnp.select([_t(c) for c in condlist], [_t(c) for c in choicelist], default)


def pad(x, pad_width, mode="constant", constant_values=None):
    """`x` padded by `pad_width` with `mode`."""
    kwargs = {} if constant_values is None else {"constant_values": constant_values}
    if constant_values is not None and mode != "constant":
        raise ValueError(
            "`constant_values` can only be used with mode='constant'. "
            f"Received: mode={mode!r}"
        )
    return jnp.pad(_t(x), pad_width, mode=mode, **kwargs)


def ndim(x):
    """The number of axes of `x`."""
    return jnp.ndim(_t(x))


def size(x):
    """The number of elements of `x`."""
    return jnp.size(_t(x))


def clip(x, x_min, x_max):
    """`x` clipped to `[x_min, x_max]`; booleans clip as int32."""
    x = _t(x)
    if x.dtype == jnp.bool_:
        x = x.astype("int32")
    return jnp.clip(x, x_min, x_max)


def round(x, decimals=0):
    """`x` rounded to `decimals` decimals."""
    return jnp.round(_t(x), decimals)


def nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    """`x` with NaNs and infinities replaced by finite numbers."""
    return jnp.nan_to_num(_t(x), nan=nan, posinf=posinf, neginf=neginf)


def isclose(x1, x2, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Element-wise closeness of `x1` and `x2`."""
    return jnp.isclose(_t(x1), _t(x2), rtol=rtol, atol=atol, equal_nan=equal_nan)


def allclose(x1, x2, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Whether all elements of `x1` and `x2` are close."""
    return jnp.allclose(_t(x1), _t(x2), rtol=rtol, atol=atol, equal_nan=equal_nan)


def isin(x1, x2, assume_unique=False, invert=False):
    """Whether each element of `x1` is in `x2`."""
    return jnp.isin(_t(x1), _t(x2), assume_unique=assume_unique, invert=invert)


def sort(x, axis=-1):
    """`x` sorted along `axis`."""
    return jnp.sort(_t(x), axis=axis)


def argsort(x, axis=-1):
    """Indices that sort `x` along `axis`."""
    return jnp.argsort(_t(x), axis=axis).astype("int32")


def argpartition(x, kth, axis=-1):
    """Indices that partition `x` around its `kth` element."""
    return jnp.argpartition(_t(x), kth, axis=axis).astype("int32")


def searchsorted(sorted_sequence, values, side="left"):
    """Indices where `values` would be inserted to keep `sorted_sequence` sorted."""
    return jnp.searchsorted(_t(sorted_sequence), _t(values), side=side).astype("int32")


def digitize(x, bins):
    """Index of the bin each element of `x` falls in."""
    return jnp.digitize(_t(x), _t(bins)).astype("int32")


def bincount(x, weights=None, minlength=0, sparse=False):
    """Counts of each non-negative integer in `x` (per row when `x` is 2-D)."""
    if sparse:
        raise ValueError("`sparse=True` is not supported by kerax: JAX has no sparse bincount.")
    x = _t(x)
    length = builtins.max(minlength, int(jnp.max(x)) + 1 if x.size else 0)
    dtype = "int32" if weights is None else dtype_of(weights)
    if x.ndim == 1:
        return jnp.bincount(x, weights, length=length).astype(dtype)
    w = jnp.zeros(x.shape) if weights is None else _t(weights)
    rows = [jnp.bincount(r, None if weights is None else wr, length=length)
            for r, wr in zip(x, w)]
    return jnp.stack(rows).astype(dtype)


def histogram(x, bins=10, range=None):
    """Counts of the 1-D `x` in `bins` equal-width bins, and the bin edges.

    Example:
    >>> counts, edges = histogram(jnp.array([0.0, 0.1, 1.0]), bins=2)
    >>> counts.tolist()
    [2.0, 1.0]
    """
    x = _t(x)
    if x.ndim != 1:
        raise ValueError(f"`histogram` needs a 1-D input. Received: input.shape={x.shape}")
    return jnp.histogram(x, bins=bins, range=range)


def unique(x, sorted=True, return_index=False, return_inverse=False,
           return_counts=False, axis=None, size=None, fill_value=None):
    """The unique elements of `x` (pass `size` to use it under `jit`)."""
    return jnp.unique(_t(x), return_index=return_index, return_inverse=return_inverse,
                      return_counts=return_counts, axis=axis, size=size,
                      fill_value=fill_value)


def unravel_index(indices, shape):
    """Converts flat `indices` to a tuple of coordinate arrays for `shape`."""
    return tuple(jnp.unravel_index(_t(indices), shape))


def diff(a, n=1, axis=-1):
    """The `n`-th discrete difference along `axis`."""
    return jnp.diff(_t(a), n=n, axis=axis)


def cross(x1, x2, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """Cross product of vectors in `x1` and `x2`."""
    return jnp.cross(_t(x1), _t(x2), axisa=axisa, axisb=axisb, axisc=axisc, axis=axis)


def correlate(x1, x2, mode="valid"):
    """Cross-correlation of two 1-D arrays."""
    return jnp.correlate(*_floats(x1, x2), mode=mode)


def einsum(subscripts, *operands, **kwargs):
    """Einstein summation over `operands`."""
    return jnp.einsum(subscripts, *[_t(o) for o in operands], **kwargs)


def tensordot(x1, x2, axes=2):
    """Tensor dot product over `axes`."""
    return jnp.tensordot(_t(x1), _t(x2), axes=axes)


def trapezoid(y, x=None, dx=1.0, axis=-1):
    """Integral of `y` along `axis` by the trapezoidal rule."""
    y = _t(y)
    return jnp.trapezoid(y.astype(float_dtype(y)), None if x is None else _t(x), dx=dx,
                         axis=axis)


def slogdet(x):
    """Sign and log absolute determinant of `x`."""
    return tuple(jnp.linalg.slogdet(_t(x)))


def vectorize(pyfunc, *, excluded=None, signature=None):
    """Turns a function on scalars into one on arrays (`jnp.vectorize`)."""
    return jnp.vectorize(pyfunc, excluded=excluded or set(), signature=signature)


def view(x, dtype=None):
    """`x` with its bytes reinterpreted as `dtype`."""
    x = _t(x)
    return x if dtype is None else x.view(standardize_dtype(dtype))


del _name, _jnp_name

__all__ = sorted(
    n for n, v in globals().items()
    if callable(v) and not n.startswith("_") and getattr(v, "__module__", "") == __name__
)
