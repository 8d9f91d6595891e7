"""Keras 3's quantizers: abs-max int8 quantization and float8 scaling helpers.

`abs_max_quantize(x, axis)` maps `x` to integers in `value_range` with one scale per
slice along `axis` (`x * scale`, rounded and clipped, `scale = 127 / (max|x| + eps)`), as
`keras.quantizers.abs_max_quantize`; `AbsMaxQuantizer` is the same as a configurable
object. `abs_max_quantize_grouped_with_zero_point` is the asymmetric per-group int4
scheme, `pack_int4` / `unpack_int4` store two int4 values in one int8 byte. The float8
helpers are Keras' delayed-scaling rules (`compute_float8_scale`,
`compute_float8_amax_history`, `quantize_and_dequantize`).
"""

import math

import jax.numpy as jnp
import ml_dtypes
import numpy as np

from kerax.backend import config as _config


class Quantizer:
    """Base class of quantizers (`keras.quantizers.Quantizer`): `__call__` maps a tensor
    to its quantized form.

    Args:
        output_dtype: the dtype of the quantized values.

    Example:
    >>> Quantizer()(3.0)
    3.0
    """

    _keras_module = "keras.quantizers"

    def __init__(self, output_dtype="int8"):
        self.output_dtype = output_dtype

    def __call__(self, x):
        return x

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def get_config(self):
        raise NotImplementedError(f"{self} does not implement get_config()")


def _numpy_axis(axis):
    return tuple(axis) if isinstance(axis, (list, tuple)) else axis


def abs_max_quantize(inputs, axis, value_range=(-127, 127), dtype="int8", epsilon=None,
                     to_numpy=False):
    """Quantizes `inputs` with the absolute-maximum scheme along `axis`.

    Returns `(quantized, scale)` with `quantized = clip(round(inputs * scale))` and
    `scale = value_range[1] / (max(|inputs|, axis, keepdims=True) + epsilon)`, so
    `quantized / scale` approximates `inputs`. `to_numpy=True` computes on the host.

    Args:
        inputs: the tensor to quantize.
        axis: the axis (or axes) reduced to compute each scale.
        value_range: the `(min, max)` of the quantized values.
        dtype: the dtype of the quantized values.
        epsilon: added to the maximum (default `kerax.config.epsilon()`).
        to_numpy: compute with NumPy (as Keras does for weights).

    Example:
    >>> import numpy as np
    >>> q, scale = abs_max_quantize(np.array([[1.0, -2.0], [0.5, 0.25]], "float32"), axis=-1)
    >>> q.tolist(), scale.shape
    ([[64, -127], [127, 63]], (2, 1))
    """
    epsilon = _config.epsilon() if epsilon is None else epsilon
    if to_numpy:
        original_dtype = np.asarray(inputs).dtype if not hasattr(inputs, "dtype") \
            else jnp.dtype(inputs.dtype)
        x = np.asarray(inputs)
        scale = np.divide(value_range[1],
                          np.add(np.max(np.abs(x), axis=_numpy_axis(axis), keepdims=True),
                                 epsilon))
        outputs = np.clip(np.round(np.multiply(x, scale)), value_range[0], value_range[1])
        return jnp.asarray(outputs.astype(dtype)), jnp.asarray(scale, dtype=original_dtype)
    x = jnp.asarray(inputs)
    scale = jnp.divide(value_range[1],
                       jnp.add(jnp.max(jnp.abs(x), axis=_numpy_axis(axis), keepdims=True),
                               epsilon)).astype(x.dtype)
    outputs = jnp.clip(jnp.round(jnp.multiply(x, scale)), value_range[0], value_range[1])
    return outputs.astype(dtype), scale


def abs_max_quantize_grouped_with_zero_point(inputs, block_size, value_range=(-8, 7),
                                             dtype="int8", epsilon=None, to_numpy=False):
    """Asymmetric quantization of a 2D `(input_dim, output_dim)` tensor in groups of
    `block_size` rows (Keras' int4 sub-channel scheme).

    Each group of rows gets, per column, `scale = (max - min + epsilon) / (qmax - qmin)`
    and `zero = clip(round(-min / scale) + qmin)`; values become
    `clip(round(x / scale) + zero)`, so `(q - zero) * scale` approximates `x`.

    Args:
        inputs: the 2D tensor to quantize.
        block_size: rows per group (the last group is zero-padded).
        value_range: the `(min, max)` of the quantized values.
        dtype: the dtype of the quantized values.
        epsilon: added to each group's range (default `kerax.config.epsilon()`).
        to_numpy: accepted for Keras' signature: kerax always computes on the host, as
            Keras' NumPy path (Keras' device path agrees to float rounding).

    Returns:
        `(quantized, scale, zero)`: `inputs`' shape in `dtype`, and two
        `(ceil(input_dim / block_size), output_dim)` arrays (`scale` in `inputs`' dtype,
        `zero` int8).

    Example:
    >>> import numpy as np
    >>> q, scale, zero = abs_max_quantize_grouped_with_zero_point(
    ...     np.arange(6, dtype="float32").reshape(3, 2), block_size=2)
    >>> q.shape, scale.shape, zero.tolist()
    ((3, 2), (2, 2), [[-8, -8], [-8, -8]])
    """
    del to_numpy
    epsilon = _config.epsilon() if epsilon is None else epsilon
    original_dtype = jnp.dtype(inputs.dtype) if hasattr(inputs, "dtype") else np.float32
    x = np.asarray(inputs)
    input_dim, output_dim = x.shape
    n_groups = math.ceil(input_dim / block_size)
    qmin, qmax = value_range
    padded = n_groups * block_size
    if padded > input_dim:
        x = np.concatenate([x, np.zeros((padded - input_dim, output_dim), x.dtype)], axis=0)
    groups = x.reshape(n_groups, block_size, output_dim)
    low = np.min(groups, axis=1, keepdims=True)
    high = np.max(groups, axis=1, keepdims=True)
    scale = np.divide(np.subtract(high, low) + epsilon, qmax - qmin)
    zero = np.clip(np.round(np.divide(-low, scale)) + qmin, qmin, qmax)
    outputs = np.clip(np.round(np.divide(groups, scale)) + zero, qmin, qmax).astype(dtype)
    outputs = outputs.reshape(padded, output_dim)[:input_dim, :]
    return (jnp.asarray(outputs), jnp.asarray(np.squeeze(scale, axis=1), original_dtype),
            jnp.asarray(np.squeeze(zero, axis=1).astype("int8")))


def dequantize_with_sz_map(weights_matrix, scale, zero, g_idx, group_axis=-1):
    """`(weights_matrix - zero[g]) * scale[g]`, with the group `g` of each position along
    the dequantized axis given by `g_idx` (taken from `scale` and `zero` on `group_axis`).

    Example:
    >>> w = jnp.array([[1, 2], [3, 4]], jnp.int8)
    >>> dequantize_with_sz_map(w, jnp.array([[0.5, 1.0]]), jnp.array([[1, 0]], jnp.int8),
    ...                        jnp.array([0.0, 0.0]), group_axis=0).tolist()
    [[0.0, 2.0], [1.0, 4.0]]
    """
    groups = jnp.asarray(g_idx).astype(jnp.int32)
    scales = jnp.take(scale, groups, axis=group_axis)
    zeros = jnp.take(zero, groups, axis=group_axis).astype(scales.dtype)
    return jnp.multiply(jnp.subtract(weights_matrix, zeros), scales)


def _check_int4_dtype(dtype):
    if dtype not in ("int8", "uint8"):
        raise ValueError(f"Expected dtype to be 'int8' or 'uint8', but got '{dtype}'.")


def pack_int4(arr, axis=0, dtype="int8"):
    """Packs int4 values (int8 in `[-8, 7]`) two per byte along `axis` (Keras' layout:
    the first of each pair in the low nibble, the second in the high nibble; an odd
    length is padded with a zero).

    Returns:
        `(packed, packed_shape, orig_len)`.

    Example:
    >>> import numpy as np
    >>> packed, shape, n = pack_int4(np.array([[-3, 7], [2, -8], [1, 0]], np.int8))
    >>> packed.tolist(), shape, n
    ([[45, -121], [1, 0]], (2, 2), 3)
    """
    _check_int4_dtype(dtype)
    if jnp.dtype(arr.dtype) != jnp.dtype(dtype):
        raise TypeError(f"Expected {dtype} tensor for packing, got {jnp.dtype(arr.dtype)}.")
    np_dtype = np.dtype(dtype)
    x = np.moveaxis(np.asarray(arr), axis, 0)
    n = x.shape[0]
    if n % 2 == 1:
        x = np.concatenate([x, np.zeros((1,) + x.shape[1:], x.dtype)], axis=0)
    mask = np.array(0x0F, np_dtype)
    low, high = np.bitwise_and(x[::2], mask), np.bitwise_and(x[1::2], mask)
    packed = np.bitwise_or(low, np.left_shift(high, np.array(4, np_dtype))).astype(np_dtype)
    packed = np.moveaxis(packed, 0, axis)
    return jnp.asarray(packed), tuple(packed.shape), n


def unpack_int4(packed, orig_len, axis=0, dtype="int8"):
    """The int4 values `pack_int4` packed along `axis`, as `dtype` (`int8`: signed
    `[-8, 7]`), the padding removed (`orig_len` entries along `axis`).

    Example:
    >>> unpack_int4(jnp.array([[45, -121], [1, 0]], jnp.int8), 3).tolist()
    [[-3, 7], [2, -8], [1, 0]]
    """
    _check_int4_dtype(dtype)
    packed = jnp.asarray(packed)
    if jnp.dtype(packed.dtype) not in (jnp.dtype("int8"), jnp.dtype("uint8")):
        raise TypeError(f"Expected int8 or uint8 tensor for unpacking, got {packed.dtype}")
    x = jnp.moveaxis(packed, axis, 0)
    mask = jnp.array(0x0F, x.dtype)
    nibbles = [jnp.bitwise_and(x, mask), jnp.bitwise_and(jnp.right_shift(x, 4), mask)]
    if dtype == "int8":  # [0, 15] -> [-8, 7]
        eight = jnp.array(8, x.dtype)
        nibbles = [jnp.subtract(jnp.bitwise_xor(n, eight), eight) for n in nibbles]
    stacked = jnp.stack([n.astype(dtype) for n in nibbles], axis=1)
    unpacked = stacked.reshape((-1,) + x.shape[1:])[:orig_len]
    return jnp.moveaxis(unpacked, 0, axis)


class AbsMaxQuantizer(Quantizer):
    """`abs_max_quantize` as a quantizer object (`keras.quantizers.AbsMaxQuantizer`).

    Args:
        axis: deprecated default axis (pass `axis` to `__call__`); -1 when neither is set.
        value_range: the `(min, max)` of the quantized values (within [-128, 127] for int8).
        epsilon: added to the maximum (default `kerax.config.epsilon()`).
        output_dtype: the dtype of the quantized values.

    Example:
    >>> import numpy as np
    >>> q, scale = AbsMaxQuantizer()(np.array([[2.0, -1.0]], "float32"))
    >>> q.tolist()
    [[127, -64]]
    """

    def __init__(self, axis=None, value_range=(-127, 127), epsilon=None, output_dtype="int8"):
        super().__init__(output_dtype=output_dtype)
        self.axis = None if axis is None else tuple((axis,) if isinstance(axis, int) else axis)
        self.value_range = tuple(value_range)
        self.epsilon = _config.epsilon() if epsilon is None else epsilon
        if output_dtype == "int8" and (value_range[0] < -128 or value_range[1] > 127):
            raise ValueError(
                "Quantizer with output_dtype='int8' requires value_range to be within the "
                f"interval [-128, 127]. Received: value_range={value_range}"
            )

    def __call__(self, x, axis=None, to_numpy=False):
        axis = self.axis if axis is None else axis
        return abs_max_quantize(x, -1 if axis is None else axis, self.value_range,
                                self.output_dtype, self.epsilon, to_numpy)

    def get_config(self):
        config = {"value_range": self.value_range, "epsilon": self.epsilon,
                  "output_dtype": self.output_dtype}
        if self.axis is not None:
            config["axis"] = self.axis
        return config


def compute_float8_scale(amax, scale, dtype_max, margin=0):
    """The next float8 scale from the recent absolute maximum `amax` (Keras' rule, from
    Transformer Engine): `amax / dtype_max * 2**margin`, or `scale` when `amax` is 0 or
    not finite.

    Example:
    >>> float(compute_float8_scale(jnp.float32(896.0), jnp.float32(1.0), 448.0))
    2.0
    """
    scale = jnp.reciprocal(scale)
    sf = jnp.divide(jnp.divide(dtype_max, amax), 2**margin)
    sf = jnp.where(amax > 0.0, sf, scale)
    sf = jnp.where(jnp.isfinite(amax), sf, scale)
    return jnp.reciprocal(sf)


def compute_float8_amax_history(x, amax_history):
    """`amax_history` rolled by one with `max(|x|)` written in front (Keras' rule).

    Example:
    >>> compute_float8_amax_history(jnp.array([-3.0, 1.0]), jnp.array([1.0, 2.0])).tolist()
    [3.0, 1.0]
    """
    amax_update = jnp.max(jnp.abs(x)).astype(amax_history.dtype)
    return jnp.roll(amax_history, shift=-1).at[0].set(amax_update)


def quantize_and_dequantize(inputs, scale, quantized_dtype, compute_dtype):
    """`inputs / scale`, clipped and rounded to `quantized_dtype`, times `scale` again, in
    `compute_dtype` (the value a float8 matmul sees).

    Example:
    >>> quantize_and_dequantize(jnp.array([1.1]), jnp.float32(1.0), "float8_e4m3fn",
    ...                         "float32").tolist()
    [1.125]
    """
    dtype_max = jnp.asarray(float(ml_dtypes.finfo(quantized_dtype).max), compute_dtype)
    x = jnp.divide(inputs, jnp.asarray(scale).astype(compute_dtype))
    x = jnp.clip(x, -dtype_max, dtype_max).astype(quantized_dtype)
    return jnp.multiply(x.astype(compute_dtype), jnp.asarray(scale).astype(compute_dtype))


__all__ = ["Quantizer", "AbsMaxQuantizer", "abs_max_quantize",
           "abs_max_quantize_grouped_with_zero_point", "dequantize_with_sz_map", "pack_int4",
           "unpack_int4", "compute_float8_scale",
           "compute_float8_amax_history", "quantize_and_dequantize"]
