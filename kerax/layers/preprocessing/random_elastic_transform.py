"""`RandomElasticTransform`: Keras 3's random elastic distortion of images."""

import jax
import jax.numpy as jnp
import numpy as np

from kerax.layers.preprocessing.image_layer import ImagePreprocessingLayer, keras_factor
from kerax.ops import image as image_ops
from kerax.random import random as krandom

_INTERPOLATIONS = {"nearest": 0, "bilinear": 1}
_FILL_MODES = ("constant", "nearest", "wrap", "mirror", "reflect")


class RandomElasticTransform(ImagePreprocessingLayer):
    """Displaces each image's pixels by a smooth random field (training only).

    As Keras 3: per image, `p ~ U(factor)` and `u ~ U(0, 1)` decide whether it is
    distorted (`u < p`); one strength `s ~ U(scale)` per batch gives `alpha = 0.1 s
    max(h, w)` and `sigma = 0.05 s min(h, w)`; a normal noise field blurred by a Gaussian
    of `sigma` (kernel size `int(6 sigma) | 1`) and scaled by `alpha` moves the pixels.
    Like Keras 3.15 the same field displaces x and y (pixels move along the diagonal), so
    outputs equal Keras' for the same seed. Unlike Keras 3.15, a batch of one image (or a
    single image) is distorted correctly (Keras' `squeeze` of the field breaks it). The
    result is clipped to `value_range`. The kernel size follows the drawn `sigma` inside
    `jit` as well (a kernel of the largest size, with zeros outside the drawn one).

    Args:
        factor: a number `f` in `[0, 1]` for `U(0, f)`, or a `(min, max)` pair: the
            probability that an image is distorted (default 1.0).
        scale: a number or `(min, max)` pair in `[0, 1]`: the strength (default 1.0).
        interpolation: `"bilinear"` (default) or `"nearest"`.
        fill_mode: `"reflect"` (default), `"constant"`, `"nearest"`, `"wrap"`, `"mirror"`.
        fill_value: the value outside the image for `fill_mode="constant"`.
        value_range: the range of the pixel values (default `(0, 255)`).
        seed: the initial seed state of `layer.generator` (random when None).
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Example:
    >>> import numpy as np
    >>> layer = RandomElasticTransform(scale=0.5, seed=1)
    >>> layer(np.ones((2, 16, 16, 3), "float32") * 100).shape
    (2, 16, 16, 3)
    """

    _random = True

    def __init__(self, factor=1.0, scale=1.0, interpolation="bilinear", fill_mode="reflect",
                 fill_value=0.0, value_range=(0, 255), seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        name = "RandomElasticTransform"
        self.factor = keras_factor(name, factor, (0, 1))
        self.scale = keras_factor(name, scale, (0, 1), "scale")
        if interpolation not in _INTERPOLATIONS:
            raise ValueError(f"{name}: unknown `interpolation` {interpolation!r}. Expected "
                             f"one of {tuple(_INTERPOLATIONS)}.")
        if fill_mode not in _FILL_MODES:
            raise ValueError(f"{name}: unknown `fill_mode` {fill_mode!r}. Expected one of "
                             f"{_FILL_MODES}.")
        self.interpolation, self.fill_mode, self.fill_value = interpolation, fill_mode, fill_value
        self.value_range = value_range

    def get_random_transformation(self, images, training=True, draws=None):
        if not training or self.scale[1] == 0 or self.factor[1] == 0:
            return None
        n = images.shape[0]
        probability = krandom.uniform((n,), *self.factor, seed=draws.next())
        threshold = krandom.uniform((n,), 0.0, 1.0, seed=draws.next())
        strength = krandom.uniform((), *self.scale, dtype=self.compute_dtype,
                                   seed=draws.next())
        return {"apply_transform": threshold < probability, "distortion_factor": strength,
                "draws": draws}

    def _distort(self, images, t, interpolation):
        if t is None:
            return images
        height, width = images.shape[self.height_axis], images.shape[self.width_axis]
        s = t["distortion_factor"]
        alpha, sigma = max(height, width) * (0.1 * s), min(height, width) * (0.05 * s)
        # The largest kernel the drawn strength can ask for (the same float32 arithmetic).
        top = np.float32(min(height, width)) * (np.float32(0.05) * np.float32(self.scale[1]))
        size = int(np.float32(6) * top) | 1
        noise = jax.random.normal(t["draws"].next(), (images.shape[0], height, width),
                                  images.dtype) * sigma
        field = _blur(noise, sigma, size)
        x = self._sample(images, field, alpha, interpolation)
        x = jnp.where(t["apply_transform"][:, None, None, None], x, images)
        return jnp.clip(x, *self.value_range).astype(self.compute_dtype)

    def _sample(self, images, field, alpha, interpolation):
        x = jnp.moveaxis(images, 1, -1) if self.data_format == "channels_first" else images
        rows, cols = jnp.meshgrid(jnp.arange(x.shape[1]), jnp.arange(x.shape[2]),
                                  indexing="ij")
        order = _INTERPOLATIONS[interpolation]

        def one(image, d):
            coords = [rows + alpha * d, cols + alpha * d]
            channel = lambda c: image_ops.map_coordinates(  # noqa: E731
                c, coords, order, fill_mode=self.fill_mode, fill_value=self.fill_value)
            return jax.vmap(channel, in_axes=-1, out_axes=-1)(image)

        out = jax.vmap(one)(x, field).astype(images.dtype)
        return jnp.moveaxis(out, -1, 1) if self.data_format == "channels_first" else out

    def transform_images(self, images, transformation, training=True):
        images = images.astype(self.compute_dtype)
        return self._distort(images, transformation, self.interpolation) if training else images

    def transform_segmentation_masks(self, masks, transformation, training=True):
        return self._distort(jnp.asarray(masks), transformation, "nearest") if training else masks

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "scale": self.scale,
                "interpolation": self.interpolation, "fill_mode": self.fill_mode,
                "fill_value": self.fill_value, "value_range": self.value_range,
                "seed": self.seed}


def _blur(noise, sigma, size):
    """Keras' `gaussian_blur` with kernel size `int(6 sigma) | 1` of a traced `sigma`: a
    kernel of the static `size`, zero outside the drawn one (zero "same" padding)."""
    drawn = jnp.floor(6 * sigma).astype(jnp.int32) | 1
    x = jnp.arange(size, dtype=noise.dtype) - (size - 1) / 2
    weights = jnp.where(jnp.abs(x) <= (drawn - 1) // 2, jnp.exp(-0.5 * (x / sigma) ** 2), 0.0)
    kernel1d = weights / jnp.sum(weights)
    kernel = jnp.outer(kernel1d, kernel1d)[None, None]
    out = jax.lax.conv_general_dilated(noise[:, None], kernel, (1, 1), "SAME",
                                       dimension_numbers=("NCHW", "OIHW", "NCHW"))
    return out[:, 0]
