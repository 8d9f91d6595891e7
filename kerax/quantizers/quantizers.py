"""Keras 3's quantizers: abs-max int8 quantization and float8 scaling helpers.

`abs_max_quantize(x, axis)` maps `x` to integers in `value_range` with one scale per
slice along `axis` (`x * scale`, rounded and clipped, `scale = 127 / (max|x| + eps)`), as
`keras.quantizers.abs_max_quantize`; `AbsMaxQuantizer` is the same as a configurable
object. The float8 helpers are Keras' delayed-scaling rules (`compute_float8_scale`,
`compute_float8_amax_history`, `quantize_and_dequantize`).
"""

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


__all__ = ["Quantizer", "AbsMaxQuantizer", "abs_max_quantize", "compute_float8_scale",
           "compute_float8_amax_history", "quantize_and_dequantize"]
