"""Convolution, pooling and attention ops of `keras.ops.nn`, over `jax.lax`.

Layouts follow Keras: inputs `(batch, *spatial, channels)` for `"channels_last"`,
kernels `(*spatial, in_channels // groups, out_channels)`.
"""

import jax
import jax.numpy as jnp

from kerax.backend.config import standardize_data_format
from kerax.ops.core import convert_to_tensor

_t = convert_to_tensor


def _tuple(value, n):
    return (value,) * n if isinstance(value, int) else tuple(value)


def _padding(padding):
    padding = padding.lower()
    if padding not in ("valid", "same"):
        raise ValueError(f"`padding` must be 'valid' or 'same'. Received: padding={padding!r}")
    return padding.upper()


def _numbers(ndim, data_format):
    spatial = "DHW"[3 - (ndim - 2):]
    lhs = "N" + spatial + "C" if data_format == "channels_last" else "NC" + spatial
    return (lhs, spatial + "IO", lhs)


def conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """N-D convolution (1-D to 3-D) of `inputs` with `kernel`.

    Example:
    >>> conv(jnp.ones((1, 4, 1)), jnp.ones((2, 1, 1))).shape
    (1, 3, 1)
    """
    data_format = standardize_data_format(data_format)
    inputs, kernel = _t(inputs), _t(kernel)
    n = inputs.ndim - 2
    channels = inputs.shape[-1] if data_format == "channels_last" else inputs.shape[1]
    if channels % kernel.shape[-2]:
        raise ValueError(
            f"The input's channels ({channels}) must be a multiple of the kernel's input "
            f"channels ({kernel.shape[-2]}). Received: inputs.shape={inputs.shape}, "
            f"kernel.shape={kernel.shape}"
        )
    return jax.lax.conv_general_dilated(
        inputs, kernel.astype(inputs.dtype), _tuple(strides, n), _padding(padding),
        rhs_dilation=_tuple(dilation_rate, n),
        dimension_numbers=_numbers(inputs.ndim, data_format),
        feature_group_count=channels // kernel.shape[-2],
    )


def depthwise_conv(inputs, kernel, strides=1, padding="valid", data_format=None,
                   dilation_rate=1):
    """Depthwise convolution: `kernel` of shape `(*spatial, channels, multiplier)`."""
    kernel = _t(kernel)
    kernel = kernel.reshape(kernel.shape[:-2] + (1, kernel.shape[-2] * kernel.shape[-1]))
    return conv(inputs, kernel, strides, padding, data_format, dilation_rate)


def separable_conv(inputs, depthwise_kernel, pointwise_kernel, strides=1, padding="valid",
                   data_format=None, dilation_rate=1):
    """Depthwise convolution followed by a pointwise (1x1) convolution."""
    out = depthwise_conv(inputs, depthwise_kernel, strides, padding, data_format,
                         dilation_rate)
    return conv(out, pointwise_kernel, 1, "valid", data_format)


def _window(inputs, pool_size, strides, data_format):
    n = inputs.ndim - 2
    pool = _tuple(pool_size, n)
    strides = pool if strides is None else _tuple(strides, n)
    if standardize_data_format(data_format) == "channels_last":
        return (1,) + pool + (1,), (1,) + strides + (1,)
    return (1, 1) + pool, (1, 1) + strides


def max_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """Max pooling over the spatial axes."""
    inputs = _t(inputs)
    window, strides = _window(inputs, pool_size, strides, data_format)
    return jax.lax.reduce_window(inputs, -jnp.inf, jax.lax.max, window, strides,
                                 _padding(padding))


def average_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """Average pooling over the spatial axes (padding is not counted)."""
    inputs = _t(inputs)
    window, strides = _window(inputs, pool_size, strides, data_format)
    padding = _padding(padding)
    total = jax.lax.reduce_window(inputs, 0.0, jax.lax.add, window, strides, padding)
    if padding == "VALID":
        return total / jnp.prod(jnp.array(window)).astype(inputs.dtype)
    count = jax.lax.reduce_window(jnp.ones_like(inputs), 0.0, jax.lax.add, window, strides,
                                  padding)
    return total / count


def dot_product_attention(query, key, value, bias=None, mask=None, scale=None,
                          is_causal=False, flash_attention=None,
                          attn_logits_soft_cap=None):
    """Scaled dot-product attention on `(batch, seq, heads, head_dim)` arrays."""
    query, key, value = _t(query), _t(key), _t(value)
    scale = 1.0 / jnp.sqrt(query.shape[-1]) if scale is None else scale
    logits = jnp.einsum("btnh,bsnh->bnts", query, key).astype("float32") * scale
    if attn_logits_soft_cap is not None:
        logits = attn_logits_soft_cap * jnp.tanh(logits / attn_logits_soft_cap)
    if bias is not None:
        logits = logits + _t(bias)
    keep = None if mask is None else _t(mask).astype(bool)
    if is_causal:
        t, s = logits.shape[-2:]
        causal = jnp.tril(jnp.ones((t, s), bool))
        keep = causal if keep is None else keep & causal
    if keep is not None:
        logits = jnp.where(keep, logits, jnp.finfo(logits.dtype).min)
    weights = jax.nn.softmax(logits, axis=-1).astype(value.dtype)
    return jnp.einsum("bnts,bsnh->btnh", weights, value)
