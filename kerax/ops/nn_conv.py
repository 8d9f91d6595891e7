"""Convolution, pooling and attention ops of `keras.ops.nn`, over `jax.lax`.

Layouts follow Keras: inputs `(batch, *spatial, channels)` for `"channels_last"`,
kernels `(*spatial, in_channels // groups, out_channels)`.
"""

import jax
import jax.numpy as jnp
import numpy as np

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


def adaptive_bins(length, size):
    """Start and (exclusive) end positions of the `size` bins over `length` positions.

    Example:
    >>> [b.tolist() for b in adaptive_bins(7, 3)]
    [[0, 2, 4], [3, 5, 7]]
    """
    i = np.arange(size)
    starts = (i * length) // size
    ends = -((-(i + 1) * length) // size)  # ceil division in integers
    return starts, ends


def _pool_axis(x, axis, size, mode):
    """Pools axis `axis` of `x` into `size` adaptive bins."""
    starts, ends = adaptive_bins(x.shape[axis], size)
    width = int(np.max(ends - starts))
    positions = starts[:, None] + np.arange(width)          # (size, width)
    valid = positions < ends[:, None]
    # Short bins repeat their last position: harmless for max, masked for average.
    positions = np.minimum(positions, ends[:, None] - 1)
    taken = jnp.take(x, positions.reshape(-1), axis=axis, mode="clip",
                     indices_are_sorted=True)
    taken = taken.reshape(x.shape[:axis] + (size, width) + x.shape[axis + 1:])
    if mode == "max":
        return jnp.max(taken, axis=axis + 1)
    trailing = (1,) * (x.ndim - axis - 1)
    keep = valid.reshape((size, width) + trailing)
    total = jnp.sum(jnp.where(keep, taken, jnp.zeros((), taken.dtype)), axis=axis + 1)
    counts = (ends - starts).reshape((size,) + trailing)
    return total / jnp.asarray(counts, total.dtype if jnp.issubdtype(total.dtype, jnp.inexact)
                               else jnp.float32)


def adaptive_pool(x, output_size, mode="average", data_format="channels_last"):
    """Adaptive max or average pooling of `x` to spatial shape `output_size`.

    Args:
        x: array `(batch, *spatial, channels)` (or `(batch, channels, *spatial)`).
        output_size: tuple of ints, one per spatial axis.
        mode: `"average"` or `"max"`.
        data_format: `"channels_last"` or `"channels_first"`.

    Returns:
        The pooled array, with `output_size` as its spatial shape.

    Example:
    >>> import numpy as np
    >>> adaptive_pool(np.arange(7.0).reshape(1, 7, 1), (3,))[0, :, 0].tolist()
    [1.0, 3.0, 5.0]
    """
    x = jnp.asarray(x)
    first = 1 if data_format == "channels_last" else 2
    for offset, size in enumerate(output_size):
        x = _pool_axis(x, first + offset, int(size), mode)
    return x


def _adaptive(inputs, output_size, data_format, mode):
    """Pools each spatial axis into `output_size` windows `[floor(i L / n), ceil((i+1) L / n))`."""
    inputs = _t(inputs)
    n = inputs.ndim - 2
    if n not in (1, 2, 3):
        raise ValueError(
            "Adaptive pooling expects a 3-D, 4-D or 5-D input (1 to 3 spatial axes). "
            f"Received: inputs.shape={inputs.shape}"
        )
    return adaptive_pool(inputs, _tuple(output_size, n), mode, standardize_data_format(data_format))


def adaptive_average_pool(inputs, output_size, data_format=None):
    """Average pooling to a fixed `output_size` (PyTorch's adaptive windows).

    Example:
    >>> adaptive_average_pool(jnp.arange(5.0).reshape(1, 5, 1), 2)[0, :, 0].tolist()
    [1.0, 3.0]
    """
    return _adaptive(inputs, output_size, data_format, "average")


def adaptive_max_pool(inputs, output_size, data_format=None):
    """Max pooling to a fixed `output_size` (PyTorch's adaptive windows).

    Example:
    >>> adaptive_max_pool(jnp.arange(5.0).reshape(1, 5, 1), 2)[0, :, 0].tolist()
    [2.0, 4.0]
    """
    return _adaptive(inputs, output_size, data_format, "max")


def _transpose_padding(kernel_size, stride, dilation, padding, output_padding):
    """`(left, right)` padding of `lax.conv_transpose` giving Keras' output length."""
    k = (kernel_size - 1) * dilation + 1
    if padding == "VALID":
        extra = max(k, stride) - k if output_padding is None else output_padding
        return k - 1, k - 1 + extra
    total = stride + k - 2 if output_padding is None else k + k % 2 - 2 + output_padding
    left = min(total - total // 2, k - 1)
    return left, total - left


def conv_transpose(inputs, kernel, strides=1, padding="valid", output_padding=None,
                   data_format=None, dilation_rate=1):
    """Transposed convolution; `kernel` is `(*spatial, out_channels, in_channels)`.

    Output length per axis: `input * stride` for `"same"`, `(input - 1) * stride +
    max(kernel, stride)` for `"valid"`, plus `output_padding` when given.

    Example:
    >>> conv_transpose(jnp.ones((1, 3, 1)), jnp.ones((2, 4, 1)), strides=2).shape
    (1, 6, 4)
    """
    data_format = standardize_data_format(data_format)
    inputs, kernel = _t(inputs), _t(kernel)
    n = inputs.ndim - 2
    channels = inputs.shape[-1] if data_format == "channels_last" else inputs.shape[1]
    if channels != kernel.shape[-1]:
        raise ValueError(
            f"The input's channels ({channels}) must equal the kernel's input channels "
            f"(its last axis, {kernel.shape[-1]}). Received: inputs.shape={inputs.shape}, "
            f"kernel.shape={kernel.shape}, data_format={data_format!r}"
        )
    strides, dilation = _tuple(strides, n), _tuple(dilation_rate, n)
    extras = (output_padding,) * n if output_padding is None else _tuple(output_padding, n)
    pads = [_transpose_padding(kernel.shape[i], strides[i], dilation[i], _padding(padding),
                               extras[i]) for i in range(n)]
    return jax.lax.conv_transpose(inputs, kernel.astype(inputs.dtype), strides, pads,
                                  rhs_dilation=dilation,
                                  dimension_numbers=_numbers(inputs.ndim, data_format),
                                  transpose_kernel=True)


def _pair(value):
    return (value, value) if isinstance(value, int) else tuple(value)


def unfold(x, kernel_size, dilation=1, padding=0, stride=1):
    """Sliding blocks of a `(N, C, H, W)` batch as `(N, C * kH * kW, L)` (PyTorch's Unfold).

    Example:
    >>> unfold(jnp.ones((1, 2, 4, 4)), 2).shape
    (1, 8, 9)
    """
    x = _t(x)
    if x.ndim != 4:
        raise ValueError(f"unfold expects a 4-D (N, C, H, W) input. Received: x.shape={x.shape}")
    ph, pw = _pair(padding)
    patches = jax.lax.conv_general_dilated_patches(
        x, _pair(kernel_size), _pair(stride), ((ph, ph), (pw, pw)),
        rhs_dilation=_pair(dilation), dimension_numbers=("NCHW", "OIHW", "NCHW"))
    return patches.reshape(patches.shape[0], patches.shape[1], -1)


def fold(x, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sums sliding blocks `(N, C * kH * kW, L)` back into `(N, C, H, W)` (PyTorch's Fold).

    The adjoint of `unfold`: overlapping values add up.

    Example:
    >>> fold(unfold(jnp.ones((1, 1, 3, 3)), 2, stride=1), 3, 2)[0, 0].tolist()
    [[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]
    """
    x = _t(x)
    if x.ndim != 3:
        raise ValueError(f"fold expects a 3-D (N, C*kH*kW, L) input. Received: x.shape={x.shape}")
    kh, kw = _pair(kernel_size)
    blocks = 1
    for size, k, d, p, st in zip(_pair(output_size), (kh, kw), _pair(dilation), _pair(padding),
                                 _pair(stride)):
        blocks *= (size + 2 * p - d * (k - 1) - 1) // st + 1
    if x.shape[1] % (kh * kw) or x.shape[2] != blocks:
        raise ValueError(
            f"fold expects x.shape[1] to be a multiple of kH * kW = {kh * kw} and "
            f"x.shape[2] to be the number of blocks, {blocks}, for output_size="
            f"{output_size}. Received: x.shape={x.shape}"
        )
    image = jax.ShapeDtypeStruct((x.shape[0], x.shape[1] // (kh * kw), *_pair(output_size)),
                                 x.dtype)
    unfold_fn = lambda img: unfold(img, kernel_size, dilation, padding, stride)  # noqa: E731
    return jax.linear_transpose(unfold_fn, image)(x)[0]


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
