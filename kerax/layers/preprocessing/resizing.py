"""`Resizing` and `CenterCrop`: image size changes with `jax.image.resize` (no antialias)."""

import jax
import jax.numpy as jnp

from kerax.errors import unknown_identifier
from kerax.layers.input_spec import InputSpec
from kerax.layers.layer import Layer
from kerax.layers.preprocessing._base import as_float, data_format, hw_axes

INTERPOLATIONS = ("bilinear", "nearest", "lanczos3", "lanczos5", "bicubic")


def _crop(x, axes, top, left, height, width):
    x = jax.lax.slice_in_dim(x, top, top + height, axis=axes[0])
    return jax.lax.slice_in_dim(x, left, left + width, axis=axes[1])


def _pad(x, axes, top, left, fill_value):
    pads = [(0, 0)] * x.ndim
    pads[axes[0]], pads[axes[1]] = (top, top), (left, left)
    return jnp.pad(x, pads, constant_values=fill_value)


def resize(x, height, width, fmt, interpolation="bilinear", antialias=False,
           crop_to_aspect_ratio=False, pad_to_aspect_ratio=False, fill_value=0.0):
    """Resizes images (rank 3 or 4) as Keras 3 does on JAX."""
    axes = hw_axes(x, fmt)
    h, w = x.shape[axes[0]], x.shape[axes[1]]
    if crop_to_aspect_ratio:
        ch = max(min(h, int(float(w * height) / width)), 1)
        cw = max(min(w, int(float(h * width) / height)), 1)
        x = _crop(x, axes, int(float(h - ch) / 2), int(float(w - cw) / 2), ch, cw)
    elif pad_to_aspect_ratio:
        ph = max(h, int(float(w * height) / width))
        pw = max(w, int(float(h * width) / height))
        x = _pad(x, axes, int(float(ph - h) / 2), int(float(pw - w) / 2), fill_value)
    shape = list(x.shape)
    shape[axes[0]], shape[axes[1]] = height, width
    return jax.image.resize(x, tuple(shape), method=interpolation, antialias=antialias)


def _like_integer_input(y, dtype):
    """Integer images come back in their own dtype, rounded (half to even) and clipped to
    its range, as Keras' `Resizing` returns them; float images stay in the compute dtype."""
    if not jnp.issubdtype(dtype, jnp.integer):
        return y
    info = jnp.iinfo(dtype)
    return jnp.clip(jnp.round(y), info.min, info.max).astype(dtype)


class Resizing(Layer):
    """Resizes images to `(height, width)`.

    Args:
        height, width: the output size.
        interpolation: `"bilinear"` (default), `"nearest"`, `"bicubic"`, `"lanczos3"`,
            `"lanczos5"` (as `jax.image.resize`, with `antialias=False` like Keras).
        crop_to_aspect_ratio: crop the largest centered window with the target aspect
            ratio first.
        pad_to_aspect_ratio: pad (with `fill_value`) to the target aspect ratio first.
        fill_mode: only `"constant"`.
        fill_value: the padding value.
        antialias: antialias when downsampling.
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Input shape: `(batch, height, width, channels)` or one image (rank 3). Integer images
    (`uint8`, ...) come back in their dtype, rounded; float images in the compute dtype.

    Example:
    >>> import numpy as np
    >>> Resizing(2, 2)(np.ones((1, 4, 4, 3))).shape
    (1, 2, 2, 3)
    >>> Resizing(1, 2)(np.array([[[0], [3]], [[4], [8]]], "uint8"))[..., 0].tolist()
    [[2, 6]]
    """

    def __init__(self, height, width, interpolation="bilinear", crop_to_aspect_ratio=False,
                 pad_to_aspect_ratio=False, fill_mode="constant", fill_value=0.0,
                 antialias=False, data_format=None, **kwargs):
        super().__init__(**kwargs)
        if interpolation not in INTERPOLATIONS:
            raise unknown_identifier("interpolation", interpolation, INTERPOLATIONS)
        if fill_mode != "constant":
            raise ValueError("Invalid value for argument `fill_mode`. Only `'constant'` is "
                             f"supported. Received: fill_mode={fill_mode}")
        if crop_to_aspect_ratio and pad_to_aspect_ratio:
            raise ValueError("Only one of `pad_to_aspect_ratio` & `crop_to_aspect_ratio` can "
                             "be `True`.")
        self.height, self.width = height, width
        self.interpolation = interpolation
        self.crop_to_aspect_ratio = crop_to_aspect_ratio
        self.pad_to_aspect_ratio = pad_to_aspect_ratio
        self.fill_mode, self.fill_value = fill_mode, fill_value
        self.antialias = antialias
        self.data_format = _data_format(data_format)
        self.input_spec = InputSpec(min_ndim=3, max_ndim=4)

    def forward(self, params, state, inputs, training=False, rng=None, **kwargs):
        x = jnp.asarray(inputs)
        y = resize(as_float(self, x), self.height, self.width, self.data_format,
                   self.interpolation, self.antialias, self.crop_to_aspect_ratio,
                   self.pad_to_aspect_ratio, self.fill_value)
        return _like_integer_input(y, x.dtype), state

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format,
                "height": self.height, "width": self.width,
                "interpolation": self.interpolation,
                "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
                "pad_to_aspect_ratio": self.pad_to_aspect_ratio, "fill_mode": self.fill_mode,
                "fill_value": self.fill_value, "antialias": self.antialias}


_data_format = data_format


class CenterCrop(Layer):
    """Crops the central `(height, width)` window of images.

    An image smaller than the target is first resized (bilinear, cropping to the target's
    aspect ratio), as Keras does.

    Args:
        height, width: the output size.
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Example:
    >>> import numpy as np
    >>> x = np.arange(16.0).reshape(1, 4, 4, 1)
    >>> CenterCrop(2, 2)(x)[0, :, :, 0].tolist()
    [[5.0, 6.0], [9.0, 10.0]]
    """

    def __init__(self, height, width, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.height, self.width = height, width
        self.data_format = _data_format(data_format)
        self.input_spec = InputSpec(min_ndim=3, max_ndim=4)

    def forward(self, params, state, inputs, training=False, rng=None, **kwargs):
        x = as_float(self, inputs)
        axes = hw_axes(x, self.data_format)
        h, w = x.shape[axes[0]], x.shape[axes[1]]
        if h >= self.height and w >= self.width:
            top, left = (h - self.height) // 2, (w - self.width) // 2
            return _crop(x, axes, top, left, self.height, self.width), state
        return resize(x, self.height, self.width, self.data_format,
                      crop_to_aspect_ratio=True), state

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format,
                "height": self.height, "width": self.width}
