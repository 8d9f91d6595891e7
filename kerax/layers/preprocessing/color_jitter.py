"""Random colour jitter: RandomSharpness, RandomSaturation, RandomHue.

Identity (as float) at inference; in training each image draws its factor from the `rng`
passed to `apply`, so the layers run inside the compiled training step. Called eagerly
without `training`, they train, as Keras' image preprocessing layers do.
"""

import jax
import jax.numpy as jnp

from kerax.layers.preprocessing.color_augment import _value_range
from kerax.layers.preprocessing.contrast_equalization import _rescale, check_channels
from kerax.layers.preprocessing.random_image import _RandomImageLayer
from kerax.ops.image import hsv_to_rgb, rgb_to_hsv

_EPSILON = 1e-7  # Keras' backend epsilon


def _keras_factor(layer, factor, bounds):
    """Keras' base `_set_factor`: a number `f` means `(max(-|f|, low), |f|)`."""
    low, high = bounds
    message = (f"{layer}: `factor` must be a number (or a list of two numbers) in the range "
               f"[{low}, {high}]. Received: factor={factor!r}")
    if isinstance(factor, (tuple, list)):
        if len(factor) != 2 or factor[0] > high or factor[1] < low:
            raise ValueError(message)
        return tuple(sorted(factor))
    if isinstance(factor, bool) or not isinstance(factor, (int, float)) \
            or not low <= factor <= high:
        raise ValueError(message)
    return (max(-abs(factor), low), abs(factor))


def _per_image(rng, n, factor):
    return jax.random.uniform(rng, (n,), minval=factor[0], maxval=factor[1])


class _ColorJitter(_RandomImageLayer):
    _BOUNDS = (0, 1)
    _RGB = False

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        name = type(self).__name__
        self.factor = _keras_factor(name, factor, self._BOUNDS)
        self.value_range = _value_range(name, value_range)
        super().__init__(seed=seed, data_format=data_format, **kwargs)

    def forward(self, params, state, inputs, training=False, rng=None, **kwargs):
        if self._RGB:
            check_channels(self, inputs)
        return super().forward(params, state, inputs, training=training, rng=rng, **kwargs)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor,
                "value_range": self.value_range}


class RandomSharpness(_ColorJitter):
    """Sharpens or blurs each image by a random amount (training only).

    Each image draws `f ~ U(factor)` and becomes `x + (1 - 2 f) (blur(x) - x)`, clipped
    to `value_range`, where `blur` is Keras' 3x3 smoothing kernel (zero padded):
    `f = 0` blurs, `f = 0.5` keeps the image, `f = 1` sharpens.

    Args:
        factor: a number `f` in `[0, 1]` for `U(0, f)`, or a `(min, max)` pair;
            `(0.5, 0.5)` is the identity.
        value_range: the `(min, max)` of the input pixels (default `(0, 255)`).
        data_format: `"channels_last"` (default) or `"channels_first"`.
        seed: the initial seed state of `layer.generator` (random when None), drawn from
            in training when `apply` gets no `rng`.

    Example:
    >>> import jax, numpy as np
    >>> x = np.arange(9.0).reshape(1, 3, 3, 1) * 10
    >>> y, _ = RandomSharpness((0.5, 0.5)).apply({}, x, training=True,
    ...                                          rng=jax.random.PRNGKey(0))
    >>> bool(np.allclose(y, x))
    True
    """

    def _augment(self, x, rng):
        n, channels = x.shape[0], x.shape[-1]
        strength = (_per_image(rng, n, self.factor) * 2).astype(x.dtype).reshape(-1, 1, 1, 1)
        a, b = 1.0 / 13.0, 5.0 / 13.0
        kernel = jnp.asarray([[a, a, a], [a, b, a], [a, a, a]], x.dtype)
        kernel = jnp.tile(kernel.reshape(3, 3, 1, 1), (1, 1, 1, channels))
        smooth = jax.lax.conv_general_dilated(
            x, kernel, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"),
            feature_group_count=channels)
        return jnp.clip(x + (1.0 - strength) * (smooth - x), *self.value_range)


class RandomSaturation(_ColorJitter):
    """Scales the HSV saturation of each RGB image by a random factor (training only).

    Each image draws `u ~ U(factor)`; its saturation is multiplied by `u / (1 - u)`
    and clipped to `value_range`, as Keras 3 does: `u = 0` gives grayscale, `u = 0.5`
    keeps the image and `u` near 1 saturates it fully.

    Args:
        factor: a number `f` in `[-1, 1]` for `U(-|f|, |f|)` (Keras' rule, so negative
            draws also give grayscale), or a `(min, max)` pair; `(0.5, 0.5)` is
            (nearly) the identity.
        value_range: the `(min, max)` of the input pixels (default `(0, 255)`).
        data_format: `"channels_last"` (default) or `"channels_first"`.
        seed: the initial seed state of `layer.generator` (random when None), drawn from
            in training when `apply` gets no `rng`.

    Input shape: `(batch, height, width, 3)` or one image.

    Example:
    >>> import jax, numpy as np
    >>> x = np.array([[[[200.0, 100.0, 50.0]]]])
    >>> y, _ = RandomSaturation((0.0, 0.0)).apply({}, x, training=True,
    ...                                           rng=jax.random.PRNGKey(0))
    >>> y.ravel().tolist()
    [200.0, 200.0, 200.0]
    """

    _BOUNDS = (-1, 1)
    _RGB = True

    def _augment(self, x, rng):
        u = _per_image(rng, x.shape[0], self.factor)
        scale = (u / (1 - u + _EPSILON)).astype(x.dtype).reshape(-1, 1, 1)
        hsv = rgb_to_hsv(x)
        saturation = jnp.clip(hsv[..., 1] * scale, *self.value_range)
        return hsv_to_rgb(hsv.at[..., 1].set(saturation))


class RandomHue(_ColorJitter):
    """Shifts the hue of each RGB image by a random amount (training only).

    Each image draws `f ~ U(factor)` and a random sign; its HSV hue moves by
    `±f / 2` of a full turn. `factor=0` keeps the image.

    Args:
        factor: a number `f` in `[0, 1]` for `U(0, f)`, or a `(min, max)` pair.
        value_range: the `(min, max)` of the input pixels (default `(0, 255)`).
        data_format: `"channels_last"` (default) or `"channels_first"`.
        seed: the initial seed state of `layer.generator` (random when None), drawn from
            in training when `apply` gets no `rng`.

    Input shape: `(batch, height, width, 3)` or one image.

    Example:
    >>> import jax, numpy as np
    >>> x = np.array([[[[1.0, 0.0, 0.0]]]])
    >>> y, _ = RandomHue((1.0, 1.0), value_range=(0, 1)).apply(
    ...     {}, x, training=True, rng=jax.random.PRNGKey(0))
    >>> np.round(y, 4).ravel().tolist()
    [0.0, 1.0, 1.0]
    """

    _keras_draws = 2  # seeds Keras' layer draws per call

    _RGB = True

    def _augment(self, x, rng):
        k_sign, k_factor = jax.random.split(rng)
        n = x.shape[0]
        sign = jnp.where(jax.random.uniform(k_sign, (n,)) > 0.5, -1.0, 1.0)
        shift = (sign * _per_image(k_factor, n, self.factor) * 0.5).astype(x.dtype)
        hsv = rgb_to_hsv(_rescale(x, self.value_range, (0, 1)))
        hue = hsv[..., 0] + shift.reshape(-1, 1, 1)
        hue = jnp.where(hue > 1.0, hue - 1.0, hue)
        hue = jnp.where(hue < 0.0, hue + 1.0, hue)
        rgb = jnp.clip(hsv_to_rgb(hsv.at[..., 0].set(hue)), 0, 1)
        return _rescale(rgb, (0, 1), self.value_range)
