"""Deterministic contrast layers: AutoContrast and Equalization (histogram equalization).

Both read pixels in `value_range`, work on the 0-255 scale as Keras does, and return
float images of the input's shape. AutoContrast runs at inference and in training;
Equalization, like Keras', only in training (which is the default of an eager call).
"""

import jax.numpy as jnp

from kerax.errors import LayerShapeError
from kerax.layers.input_spec import InputSpec
from kerax.layers.layer import Layer
from kerax.layers.preprocessing._base import TrainingByDefault, as_float, data_format
from kerax.layers.preprocessing.color_augment import _value_range


def _rescale(x, source, target):
    """Maps `x` linearly from the `source` range to the `target` range (Keras' form)."""
    (s0, s1), (t0, t1) = source, target
    if (s0, s1) == (t0, t1):
        return x
    return (x - s0) / (s1 - s0) * (t1 - t0) + t0


def channels_last_batch(layer, x, fn):
    """Runs `fn` on `x` as a channels-last batch and restores `x`'s layout."""
    single = x.ndim == 3
    x = x[None] if single else x
    if layer.data_format == "channels_first":
        x = jnp.moveaxis(x, 1, -1)
    y = fn(x)
    if layer.data_format == "channels_first":
        y = jnp.moveaxis(y, -1, 1)
    return y[0] if single else y


class _ImageLayer(Layer):
    def __init__(self, value_range=(0, 255), data_format=None, **kwargs):
        name = type(self).__name__
        if "factor" in kwargs:
            raise ValueError(f"{name} does not take a `factor` argument. "
                             f"Received: factor={kwargs['factor']!r}")
        super().__init__(**kwargs)
        self.value_range = _value_range(name, value_range)
        self.data_format = _data_format(data_format)
        self.input_spec = InputSpec(min_ndim=3, max_ndim=4)

    def get_config(self):
        return {**super().get_config(), "value_range": self.value_range,
                "data_format": self.data_format}


_data_format = data_format


class AutoContrast(_ImageLayer):
    """Stretches each channel of each image over the whole `value_range`.

    Per image and channel, the darkest pixel becomes `value_range[0]` and the brightest
    `value_range[1]`; a constant channel is left as it is. Applied at inference and in
    training.

    Args:
        value_range: the `(min, max)` of the input pixels (default `(0, 255)`).
        data_format: `"channels_last"` (default) or `"channels_first"`. (Keras 3.15
            reduces over the wrong axes for `"channels_first"`; kerax uses height and
            width in both layouts.)

    Input shape: `(batch, height, width, channels)` or one image.

    Example:
    >>> import numpy as np
    >>> y, _ = AutoContrast(value_range=(0, 1)).apply({}, np.array([[[0.2], [0.6]]]))
    >>> np.round(y, 4).ravel().tolist()
    [0.0, 1.0]
    """

    def forward(self, params, state, inputs, training=False, rng=None, **kwargs):
        original = as_float(self, inputs)
        return channels_last_batch(self, original, self._stretch), state

    def _stretch(self, original):
        x = _rescale(original, self.value_range, (0, 255))
        low = jnp.min(x, axis=(1, 2), keepdims=True)
        high = jnp.max(x, axis=(1, 2), keepdims=True)
        scale = 255.0 / (high - low)
        y = jnp.clip(x * scale - low * scale, 0.0, 255.0)
        y = _rescale(y, (0, 255), self.value_range)
        return jnp.where(jnp.isnan(y), original, y)  # constant channels: 0 * inf


def _affine(x, source, target):
    """Keras' `_scale_values`: `x * scale + offset`, the constants in Python floats."""
    (s0, s1), (t0, t1) = source, target
    scale = (t1 - t0) / (s1 - s0)
    return x * scale + (t0 - s0 * scale)


class Equalization(TrainingByDefault, _ImageLayer):
    """Histogram equalization of each channel, over the whole batch as Keras does.

    On the 0-255 scale each channel's values are binned into `bins` bins (over all
    images of the batch together, as Keras 3 does); each value is replaced by its
    rounded cumulative-histogram level. A channel whose values fill a single bin is
    unchanged. Applied in training only; called eagerly without `training`, the
    layer trains, as in Keras.

    Args:
        value_range: the `(min, max)` of the input pixels (default `(0, 255)`).
        bins: the number of histogram bins (default 256).
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Input shape: `(batch, height, width, channels)` or one image.

    Example:
    >>> import numpy as np
    >>> x = np.array([[[0.0], [10.0]], [[10.0], [20.0]]])
    >>> y, _ = Equalization().apply({}, x, training=True)
    >>> y.ravel().tolist()
    [0.0, 170.0, 170.0, 255.0]
    """

    def __init__(self, value_range=(0, 255), bins=256, data_format=None, **kwargs):
        if isinstance(bins, bool) or not isinstance(bins, int) or bins < 2:
            raise ValueError(
                "Equalization: `bins` must be an integer of at least 2, the number of "
                f"histogram bins (256 suits 8-bit images). Received: bins={bins!r}")
        super().__init__(value_range=value_range, data_format=data_format, **kwargs)
        self.bins = bins

    def forward(self, params, state, inputs, training=False, rng=None, **kwargs):
        x = as_float(self, inputs)
        if not training:
            return x, state
        return channels_last_batch(self, x, self._equalize_all), state

    def _equalize_all(self, x):
        channels = [self._equalize(x[..., c]) for c in range(x.shape[-1])]
        return jnp.stack(channels, axis=-1).astype(x.dtype)

    def _equalize(self, channel):
        channel = _affine(channel, self.value_range, (0, 255))
        top = self.bins - 1
        bin_of = jnp.clip((channel.astype(jnp.float32) * top / 255.0).astype(jnp.int32), 0, top)
        hist = jnp.bincount(bin_of.ravel(), length=self.bins)
        cdf = jnp.cumsum(hist)
        cdf_min = cdf[jnp.argmax(cdf > 0)]
        denominator = cdf[-1] - cdf_min
        denominator = jnp.where(denominator == 0, 1, denominator)
        lookup = jnp.clip(jnp.round((cdf - cdf_min) * 255 / denominator), 0, 255)
        index = jnp.clip(channel / 255.0 * top, 0, top).astype(jnp.int32)
        equalized = jnp.where(jnp.count_nonzero(hist) <= 1, channel, lookup[index])
        return _affine(equalized, (0, 255), self.value_range)

    def get_config(self):
        return {**super().get_config(), "bins": self.bins}


def check_channels(layer, inputs, count=3):
    """Raises a LayerShapeError unless the images have `count` channels."""
    axis = -1 if layer.data_format == "channels_last" else -3
    shape = tuple(jnp.shape(inputs))
    if len(shape) in (3, 4) and shape[axis] != count:
        raise LayerShapeError(
            f"{type(layer).__name__} '{layer.name}': expected RGB images with {count} "
            f"channels on axis {axis} (data_format={layer.data_format!r}), received input "
            f"of shape {shape}.")
