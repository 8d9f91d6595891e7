"""More random image augmentations: RandomColorDegeneration, RandomGaussianBlur,
RandomErasing, RandomShear and RandomColorJitter.

Like the other random image layers they are the identity (as float) at inference and draw
their per-image parameters from the `rng` passed to `apply` in training, so they run
inside the compiled training step. Called eagerly without `training`, they train, as
Keras' image preprocessing layers do.
"""

import jax
import jax.numpy as jnp

from kerax.layers.preprocessing.color_augment import _GRAY_WEIGHTS, _factor, _value_range
from kerax.layers.preprocessing.color_jitter import RandomHue, RandomSaturation, _keras_factor
from kerax.layers.preprocessing.contrast_equalization import check_channels
from kerax.layers.preprocessing.random_image import (
    RandomBrightness,
    RandomContrast,
    _KerasAffine,
    _RandomImageLayer,
)
from kerax.random import random as krandom
from kerax.utils import bounding_boxes as bb


def _per_image(values):
    return values.reshape((-1, 1, 1, 1))


def _coin(rng, n, probability):
    """Keras' "apply with probability p ~ U(probability)" draw: one boolean per image."""
    k_prob, k_draw = jax.random.split(rng)
    p = jax.random.uniform(k_prob, (n,), minval=probability[0], maxval=probability[1])
    return jax.random.uniform(k_draw, (n,)) < p


class RandomColorDegeneration(_RandomImageLayer):
    """Blends each image towards its grayscale version by a random amount (training only).

    Each image draws `f ~ U(factor)` and becomes `x + f (gray(x) - x)`, clipped to
    `value_range`: `f = 0` keeps the image, `f = 1` makes it gray (dull colours).

    Args:
        factor: a number `f` in `[-1, 1]` for `U(-|f|, |f|)` (Keras' rule), or a
            `(min, max)` pair; `(0.5, 0.5)` always blends half way.
        value_range: the `(min, max)` of the input pixels (default `(0, 255)`).
        data_format: `"channels_last"` (default) or `"channels_first"`.
        seed: the initial seed state of `layer.generator` (random when None), drawn from
            in training when `apply` gets no `rng`.

    Input shape: `(batch, height, width, channels)` or one image, with 1 or 3 channels.

    Example:
    >>> import jax, numpy as np
    >>> layer = RandomColorDegeneration((1.0, 1.0))
    >>> y, _ = layer.apply({}, np.array([[[[255.0, 0.0, 0.0]]]]), training=True,
    ...                    rng=jax.random.PRNGKey(0))
    >>> [round(v, 2) for v in y.ravel().tolist()]
    [76.22, 76.22, 76.22]
    """

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        self.factor = _keras_factor("RandomColorDegeneration", factor, (-1, 1))
        self.value_range = _value_range("RandomColorDegeneration", value_range)
        super().__init__(seed=seed, data_format=data_format, **kwargs)

    def forward(self, params, state, inputs, training=False, rng=None, **kwargs):
        if jnp.ndim(inputs) in (3, 4):
            axis = -1 if self.data_format == "channels_last" else -3
            if jnp.shape(inputs)[axis] != 1:
                check_channels(self, inputs)
        return super().forward(params, state, inputs, training=training, rng=rng, **kwargs)

    def _augment(self, x, rng):
        f = jax.random.uniform(rng, (x.shape[0], 1, 1, 1), x.dtype, *self.factor)
        gray = x
        if x.shape[-1] == 3:
            gray = jnp.tensordot(x, jnp.asarray(_GRAY_WEIGHTS, x.dtype), axes=(-1, -1))[..., None]
        return jnp.clip(x + f * (gray - x), *self.value_range)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range}


def _odd_sizes(kernel_size):
    message = ("RandomGaussianBlur: `kernel_size` must be an odd integer or a pair of odd "
               f"integers (width, height), e.g. 3 or (3, 5). Received: "
               f"kernel_size={kernel_size!r}")
    sizes = tuple(kernel_size) if isinstance(kernel_size, (tuple, list)) \
        else (kernel_size, kernel_size)
    if len(sizes) != 2 or not all(isinstance(s, int) and not isinstance(s, bool)
                                  and s > 0 and s % 2 == 1 for s in sizes):
        raise ValueError(message)
    return sizes


def _gaussian(size, sigma, dtype):
    t = jnp.arange(size, dtype=dtype) - (size - 1) / 2
    k = jnp.exp(-0.5 * (t / sigma) ** 2)
    return k / jnp.sum(k)


class RandomGaussianBlur(_RandomImageLayer):
    """Blurs images with a Gaussian kernel of random width (training only).

    Each image is blurred with probability `p ~ U(factor)`. One `sigma` per axis is
    drawn from `U(sigma) + 1e-6` for the whole batch, as Keras does; the blur is a
    depthwise convolution with zero ("same") padding, clipped to `value_range`.

    Args:
        factor: a number `f` in `[0, 1]` for probabilities in `U(0, f)`, or a pair
            (default 1.0); `(1.0, 1.0)` blurs every image.
        kernel_size: an odd integer, or a `(width, height)` pair of odd integers
            (default 3).
        sigma: a number `s` in `[0, 1]` for `U(0, s)`, or a `(min, max)` pair
            (default 1.0).
        value_range: the `(min, max)` of the input pixels (default `(0, 255)`).
        data_format: `"channels_last"` (default) or `"channels_first"`.
        seed: the initial seed state of `layer.generator` (random when None), drawn from
            in training when `apply` gets no `rng`.

    Example:
    >>> import jax, numpy as np
    >>> layer = RandomGaussianBlur(factor=(1.0, 1.0), sigma=(1.0, 1.0))
    >>> y, _ = layer.apply({}, np.full((1, 5, 5, 1), 9.0), training=True,
    ...                    rng=jax.random.PRNGKey(0))
    >>> round(float(y[0, 2, 2, 0]), 4)
    9.0
    """

    _keras_draws = 3  # seeds Keras' layer draws per call

    def __init__(self, factor=1.0, kernel_size=3, sigma=1.0, value_range=(0, 255),
                 data_format=None, seed=None, **kwargs):
        self.factor = _factor("RandomGaussianBlur", "factor", factor, (0, 1))
        self.kernel_size = _odd_sizes(kernel_size)
        self.sigma = _factor("RandomGaussianBlur", "sigma", sigma, (0, 1))
        _value_range("RandomGaussianBlur", value_range)
        self.value_range = value_range  # kept as given, as Keras
        super().__init__(seed=seed, data_format=data_format, **kwargs)

    def _augment(self, x, rng):
        k_coin, k_sigma = jax.random.split(rng)
        blur = _coin(k_coin, x.shape[0], self.factor)
        sigma = jax.random.uniform(k_sigma, (2,), x.dtype, *self.sigma) + 1e-6
        (kw, kh), channels = self.kernel_size, x.shape[-1]
        kernel = jnp.outer(_gaussian(kh, sigma[1], x.dtype), _gaussian(kw, sigma[0], x.dtype))
        kernel = jnp.tile(kernel[:, :, None, None], (1, 1, 1, channels))
        blurred = jax.lax.conv_general_dilated(
            x, kernel, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"),
            feature_group_count=channels)
        return jnp.clip(jnp.where(_per_image(blur), blurred, x), *self.value_range)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor,
                "kernel_size": self.kernel_size, "sigma": self.sigma,
                "value_range": self.value_range}


def _fill_value(fill_value):
    if fill_value is None or (isinstance(fill_value, (int, float))
                              and not isinstance(fill_value, bool)):
        return fill_value
    if isinstance(fill_value, (tuple, list)) and len(fill_value) == 3:
        return list(fill_value)
    raise ValueError(
        "RandomErasing: `fill_value` must be None (random normal values), a number, or a "
        f"list of three numbers (one per RGB channel). Received: fill_value={fill_value!r}")


class RandomErasing(_RandomImageLayer):
    """Erases a random rectangle of each image (training only).

    Each image is erased with probability `p ~ U(factor)`. The rectangle's width and
    height are `sqrt(U(scale))` of the image's, at a uniform random position; it is
    filled with `fill_value` (or `N(0, 1) * value_range[1]` noise when None), clipped to
    `value_range`.

    Args:
        factor: a number `f` in `[0, 1]` for probabilities in `U(0, f)`, or a pair
            (default 1.0).
        scale: the `(min, max)` range, in `[0, 1]`, of the erased area fractions per
            axis before the square root (default `(0.02, 0.33)`).
        fill_value: None (noise, the default), a number, or three numbers (per channel).
        value_range: the `(min, max)` of the input pixels (default `(0, 255)`).
        seed: the initial seed state of `layer.generator` (random when None), drawn from
            in training when `apply` gets no `rng`.
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Example:
    >>> import jax, numpy as np
    >>> layer = RandomErasing(factor=(1.0, 1.0), scale=(1.0, 1.0), fill_value=7.0)
    >>> y, _ = layer.apply({}, np.ones((1, 2, 2, 1)), training=True,
    ...                    rng=jax.random.PRNGKey(0))
    >>> y.ravel().tolist()
    [7.0, 7.0, 7.0, 7.0]
    """

    _keras_draws = 6  # seeds Keras' layer draws per call

    def __init__(self, factor=1.0, scale=(0.02, 0.33), fill_value=None, value_range=(0, 255),
                 seed=None, data_format=None, **kwargs):
        self.factor = _factor("RandomErasing", "factor", factor, (0, 1))
        self.scale = _factor("RandomErasing", "scale", scale, (0, 1))
        self.fill_value = _fill_value(fill_value)
        _value_range("RandomErasing", value_range)
        self.value_range = value_range  # kept as given, as Keras
        super().__init__(seed=seed, data_format=data_format, **kwargs)

    def _augment(self, x, rng):
        n, h, w, _ = x.shape
        k_size, k_x, k_y, k_coin, k_fill = jax.random.split(rng, 5)
        side = jnp.sqrt(jax.random.uniform(k_size, (n, 2), x.dtype, *self.scale))

        def bounds(key, length, ratio):
            size = ratio * length
            start = jax.random.uniform(key, (n,), x.dtype) * (length - size)
            return _per_image(start), _per_image(start + size)

        x0, x1 = bounds(k_x, w, side[:, 0])
        y0, y1 = bounds(k_y, h, side[:, 1])
        rows = jnp.arange(h, dtype=x.dtype)[None, :, None, None]
        cols = jnp.arange(w, dtype=x.dtype)[None, None, :, None]
        inside = (cols >= x0) & (cols < x1) & (rows >= y0) & (rows < y1)
        if self.fill_value is None:
            fill = jax.random.normal(k_fill, x.shape, x.dtype) * self.value_range[1]
        else:
            fill = jnp.broadcast_to(jnp.asarray(self.fill_value, x.dtype), x.shape)
        fill = jnp.clip(fill, *self.value_range)
        erase = inside & _per_image(_coin(k_coin, n, self.factor))
        return jnp.where(erase, fill, x)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "scale": self.scale,
                "fill_value": self.fill_value, "value_range": self.value_range}


def _shear_range(name, factor):
    message = (f"RandomShear: `{name}` must be a number in [0, 1] (for shears in "
               f"[-{name}, {name}]) or a pair of numbers in [-1, 1]. Received: "
               f"{name}={factor!r}")
    pair = isinstance(factor, (tuple, list))
    values = list(factor) if pair else [factor]
    low = -1 if pair else 0  # pairs may be negative, so get_config's (-f, f) round-trips
    if (pair and len(values) != 2) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and low <= v <= 1
            for v in values):
        raise ValueError(message)
    if pair:
        return tuple(sorted(values))
    return (-float(factor), float(factor))


class RandomShear(_KerasAffine):
    """Shears each image along x and y by random amounts (training only).

    As Keras 3: each image draws a random sign `s`, then `sy ~ U(y_factor)` and
    `sx ~ U(x_factor)`, so with the same `seed` an eager call shears what Keras shears;
    output pixel `(x, y)` samples the input at `(x + s*sx*y, y + s*sy*x)`. Takes Keras'
    dict `{"images", "labels", "bounding_boxes", "segmentation_masks"}` too: boxes (in
    `bounding_box_format`) are sheared as Keras shears them (in relative coordinates) and
    clipped (boxes left empty get label -1); masks are sheared with `"nearest"`.

    Args:
        x_factor: a number `f` in `[0, 1]` for `U(-f, f)`, or a `(min, max)` pair in
            `[-1, 1]` (default 0.0). (Keras only accepts pairs in `[0, 1]`, so its own
            configs of a number do not load back; kerax's do.)
        y_factor: the same for the y direction (default 0.0).
        interpolation: `"bilinear"` (default) or `"nearest"`.
        fill_mode: `"reflect"` (default), `"wrap"`, `"constant"` or `"nearest"`.
        fill_value: the value outside the image for `fill_mode="constant"`.
        data_format: `"channels_last"` (default) or `"channels_first"`.
        seed: the initial seed state of `layer.generator` (random when None), drawn from
            in training when `apply` gets no `rng`.
        bounding_box_format: the format of the boxes of a dict input (e.g. `"xyxy"`).

    Example:
    >>> import jax, numpy as np
    >>> x = np.arange(16.0).reshape(1, 4, 4, 1)
    >>> y, _ = RandomShear().apply({}, x, training=True, rng=jax.random.PRNGKey(0))
    >>> bool(np.allclose(y, x))
    True
    """

    def __init__(self, x_factor=0.0, y_factor=0.0, interpolation="bilinear",
                 fill_mode="reflect", fill_value=0.0, data_format=None, seed=None, **kwargs):
        self.x_factor = _shear_range("x_factor", x_factor)
        self.y_factor = _shear_range("y_factor", y_factor)
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)

    def get_random_transformation(self, images, training=True, draws=None):
        if not training:
            return None
        n, dtype = images.shape[0], self.compute_dtype
        invert = krandom.uniform([n, 1], 0, 1, dtype=dtype, seed=draws.next())
        invert = jnp.where(invert > 0.5, -jnp.ones_like(invert), jnp.ones_like(invert))
        sy = krandom.uniform([n, 1], *self.y_factor, dtype=dtype, seed=draws.next())
        sx = krandom.uniform([n, 1], *self.x_factor, dtype=dtype, seed=draws.next())
        return {"shear_factor": jnp.concatenate([sx, sy], axis=1).astype(dtype) * invert,
                "height": images.shape[self.height_axis],
                "width": images.shape[self.width_axis]}

    def _transform_images(self, images, transformation, interpolation):
        s = transformation["shear_factor"]
        ones, zeros = jnp.ones((s.shape[0],)), jnp.zeros((s.shape[0],))
        matrix = jnp.stack([ones, s[:, 0], zeros, s[:, 1], ones, zeros, zeros, zeros], axis=1)
        return self._warp(images, matrix, interpolation)

    def transform_bounding_boxes(self, bounding_boxes, transformation, training=True):
        """Keras' `_shear_bboxes`, on boxes relative to the image."""
        if not training or transformation is None:
            return bounding_boxes
        h, w = transformation["height"], transformation["width"]
        fmt, dtype = self.bounding_box_format, self.compute_dtype
        s = transformation["shear_factor"].astype(dtype)
        sx, sy = s[:, 0:1], s[:, 1:2]
        bounding_boxes = bb.convert_format(bounding_boxes, fmt, "rel_xyxy", height=h,
                                           width=w, dtype=dtype)
        x1, y1, x2, y2 = (v[..., 0] for v in jnp.split(bounding_boxes["boxes"], 4, axis=-1))
        x1 = jnp.where(sx < 0, x1 - sx * y1, x1 - sx * y2)
        x2 = jnp.where(sx < 0, x2 - sx * y2, x2 - sx * y1)
        y1 = jnp.where(sy > 0, y1 - sy * x2, y1 - sy * x1)
        y2 = jnp.where(sy > 0, y2 - sy * x1, y2 - sy * x2)
        bounding_boxes["boxes"] = jnp.stack([x1, y1, x2, y2], axis=-1)
        bounding_boxes = bb.clip_to_image_size(bounding_boxes, bounding_box_format="rel_xyxy")
        return bb.convert_format(bounding_boxes, "rel_xyxy", fmt, height=h, width=w,
                                 dtype=dtype)

    def get_config(self):
        return {**super().get_config(), "x_factor": self.x_factor, "y_factor": self.y_factor}


class RandomColorJitter(_RandomImageLayer):
    """Randomly changes brightness, contrast, saturation and hue, in that order.

    Each factor that is not None adds the matching layer (`RandomBrightness`,
    `RandomContrast`, `RandomSaturation`, `RandomHue`) with this `value_range`; each
    draws its own per-image factor from a split of `rng` (training only).

    Args:
        value_range: the `(min, max)` of the input pixels (default `(0, 255)`).
        brightness_factor, contrast_factor, saturation_factor, hue_factor: the `factor`
            of the corresponding layer, or None (default) to skip it.
        seed: the initial seed state of `layer.generator` (random when None), drawn from
            in training when `apply` gets no `rng`.
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Input shape: `(batch, height, width, 3)` or one image when saturation or hue is set.

    Example:
    >>> import jax, numpy as np
    >>> layer = RandomColorJitter(contrast_factor=0.5)
    >>> y, _ = layer.apply({}, np.full((1, 2, 2, 3), 7.0), training=True,
    ...                    rng=jax.random.PRNGKey(0))
    >>> y.ravel().tolist() == [7.0] * 12
    True
    """

    def __init__(self, value_range=(0, 255), brightness_factor=None, contrast_factor=None,
                 saturation_factor=None, hue_factor=None, seed=None, data_format=None,
                 **kwargs):
        _value_range("RandomColorJitter", value_range)
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.value_range = value_range
        self.brightness_factor, self.contrast_factor = brightness_factor, contrast_factor
        self.saturation_factor, self.hue_factor = saturation_factor, hue_factor
        parts = [(RandomBrightness, brightness_factor), (RandomContrast, contrast_factor),
                 (RandomSaturation, saturation_factor), (RandomHue, hue_factor)]
        self._jitters = [cls(factor=f, value_range=value_range, data_format="channels_last")
                         for cls, f in parts if f is not None]
        self._rgb = saturation_factor is not None or hue_factor is not None

    @property
    def _keras_draws(self):
        return 1 if self._jitters else 0  # Keras' jitter itself draws nothing

    def forward(self, params, state, inputs, training=False, rng=None, **kwargs):
        if self._rgb:
            check_channels(self, inputs)
        return super().forward(params, state, inputs, training=training, rng=rng, **kwargs)

    def _augment(self, x, rng):
        for layer, key in zip(self._jitters, jax.random.split(rng, max(len(self._jitters), 1))):
            x = layer._augment(x, key)
        return x

    def get_config(self):
        return {**super().get_config(), "value_range": self.value_range,
                "brightness_factor": self.brightness_factor,
                "contrast_factor": self.contrast_factor,
                "saturation_factor": self.saturation_factor, "hue_factor": self.hue_factor}
