"""Colour augmentations: RandomGrayscale, RandomInvert, Solarization, RandomPosterization.

Like the other random image layers they are the identity (as float) at inference and draw
their per-image choices from the `rng` passed to `apply` in training, so they run inside
the compiled training step. Pixel values are read in `value_range`, as Keras does.
"""

import jax
import jax.numpy as jnp

from kerax.errors import LayerShapeError
from kerax.layers.preprocessing.random_image import _RandomImageLayer

_GRAY_WEIGHTS = (0.2989, 0.5870, 0.1140)  # Keras' (and tf.image's) RGB luminance weights


def _value_range(layer, value_range):
    if not isinstance(value_range, (tuple, list)) or len(value_range) != 2:
        raise ValueError(
            f"{layer}: `value_range` must be a list of two numbers, the (min, max) of the "
            f"input pixels, e.g. (0, 255) or (0, 1). Received: value_range={value_range!r}"
        )
    return sorted(value_range)


def _to_255(x, value_range):
    lo, hi = value_range
    return x if (lo, hi) == (0, 255) else (x - lo) / (hi - lo) * 255.0


def _from_255(x, value_range):
    lo, hi = value_range
    return x if (lo, hi) == (0, 255) else x / 255.0 * (hi - lo) + lo


def _per_image(draws):
    return draws.reshape((-1, 1, 1, 1))


class RandomGrayscale(_RandomImageLayer):
    """Converts each image to grayscale with probability `factor` (training only).

    A converted image keeps its channels, each set to the luminance
    `0.2989 R + 0.5870 G + 0.1140 B`; one-channel images are unchanged.

    Args:
        factor: the probability, in `[0, 1]`, of converting each image (default 0.5).
        data_format: `"channels_last"` (default) or `"channels_first"`.
        seed: the initial seed state of `layer.generator` (random when None), drawn from
            in training when `apply` gets no `rng`.

    Input shape: `(batch, height, width, channels)` or one image, with 1 or 3 channels.

    Example:
    >>> import jax, numpy as np
    >>> layer = RandomGrayscale(factor=1.0)
    >>> x = np.array([[[[255.0, 0.0, 0.0]]]])
    >>> y, _ = layer.apply({}, x, training=True, rng=jax.random.PRNGKey(0))
    >>> [round(v, 2) for v in y.ravel().tolist()]
    [76.22, 76.22, 76.22]
    """

    def __init__(self, factor=0.5, data_format=None, seed=None, **kwargs):
        if isinstance(factor, bool) or not isinstance(factor, (int, float)) \
                or not 0 <= factor <= 1:
            raise ValueError(
                "RandomGrayscale: `factor` must be a number between 0 and 1 (the probability "
                f"of converting each image). Received: factor={factor!r}"
            )
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = factor

    def forward(self, params, state, inputs, training=False, rng=None, **kwargs):
        axis = -1 if self.data_format == "channels_last" else -3
        shape = jnp.shape(inputs)
        if len(shape) >= 3 and shape[axis] not in (1, 3):
            raise LayerShapeError(
                f"RandomGrayscale '{self.name}': expected images with 1 or 3 channels on "
                f"axis {axis} (data_format={self.data_format!r}), received input of shape "
                f"{tuple(shape)}."
            )
        return super().forward(params, state, inputs, training=training, rng=rng, **kwargs)

    def _augment(self, x, rng):
        if x.shape[-1] == 1:
            return x
        gray = jnp.tensordot(x, jnp.asarray(_GRAY_WEIGHTS, x.dtype), axes=(-1, -1))[..., None]
        apply = jax.random.uniform(rng, (x.shape[0],)) < self.factor
        return jnp.where(_per_image(apply), gray, x)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


def _factor(layer, name, factor, bounds, strict=False):
    """Keras' `_set_factor`: a number `f` means `(lowest, f)`, a pair is sorted.

    A pair must overlap `bounds` (both ends must lie inside them if `strict`), as Keras.
    """
    low, high = bounds
    message = (f"{layer}: `{name}` must be a number (or a list of two numbers) in the range "
               f"[{low}, {high}]. Received: {name}={factor!r}")
    if isinstance(factor, (tuple, list)):
        if len(factor) != 2 or factor[0] > high or factor[1] < low:
            raise ValueError(message)
        if strict and not all(low <= f <= high for f in factor):
            raise ValueError(message)
        return tuple(sorted(factor))
    if isinstance(factor, bool) or not isinstance(factor, (int, float)) \
            or not low <= factor <= high:
        raise ValueError(message)
    return (low, factor)


class RandomInvert(_RandomImageLayer):
    """Inverts each image, `value_range[1] - x`, at random (training only).

    Each image draws an inversion probability `p ~ U(factor)` and is inverted when a
    second `U(0, 1)` draw is below `p`, as Keras does.

    Args:
        factor: a number `f` for probabilities in `[0, f]`, or a `(min, max)` pair in
            `[0, 1]` (default 1.0, i.e. `(0, 1)`: half the images on average).
            `(1.0, 1.0)` inverts every image.
        value_range: the `(min, max)` of the input pixels (default `(0, 255)`).
        seed: the initial seed state of `layer.generator` (random when None), drawn from
            in training when `apply` gets no `rng`.
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Example:
    >>> import jax, numpy as np
    >>> layer = RandomInvert(factor=(1.0, 1.0))
    >>> y, _ = layer.apply({}, np.array([[[[0.0, 55.0]]]]), training=True,
    ...                    rng=jax.random.PRNGKey(0))
    >>> y.ravel().tolist()
    [255.0, 200.0]
    """

    _keras_draws = 2  # seeds Keras' layer draws per call

    def __init__(self, factor=1.0, value_range=(0, 255), seed=None, data_format=None,
                 **kwargs):
        self.factor = _factor("RandomInvert", "factor", factor, (0, 1))
        _value_range("RandomInvert", value_range)
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.value_range = value_range

    def _augment(self, x, rng):
        k_prob, k_draw = jax.random.split(rng)
        n = x.shape[0]
        prob = jax.random.uniform(k_prob, (n,), minval=self.factor[0], maxval=self.factor[1])
        apply = jax.random.uniform(k_draw, (n,)) < prob
        return jnp.where(_per_image(apply), self.value_range[1] - x, x)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor,
                "value_range": self.value_range}


class Solarization(_RandomImageLayer):
    """Solarizes images: pixels at or above a threshold become `max - x + min`.

    In training each image draws an addition `a ~ U(addition_factor[0],
    addition_factor[1] * 255)` and a threshold `t ~ U(threshold_factor[0],
    threshold_factor[1] * 255)` (the lower bounds are not scaled: Keras 3 samples them
    so); on the 0-255 scale `y = clip(x + a, 0, 255)`, then `y` where `y < t`, else
    `255 - y`. With the defaults every pixel is inverted. Identity at inference.

    Args:
        addition_factor: a number `f` for `(0, f)`, or a pair, in `[0, 1]` (default 0).
        threshold_factor: a number `f` for `(0, f)`, or a pair, in `[0, 1]` (default 0).
        value_range: the `(min, max)` of the input pixels (default `(0, 255)`).
        seed: the initial seed state of `layer.generator` (random when None), drawn from
            in training when `apply` gets no `rng`.
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Example:
    >>> import jax, numpy as np
    >>> layer = Solarization(value_range=(0, 1))
    >>> y, _ = layer.apply({}, np.array([[[[0.25, 1.0]]]]), training=True,
    ...                    rng=jax.random.PRNGKey(0))
    >>> np.round(y, 4).ravel().tolist()
    [0.75, 0.0]
    """

    _keras_draws = 2  # seeds Keras' layer draws per call

    def __init__(self, addition_factor=0.0, threshold_factor=0.0, value_range=(0, 255),
                 seed=None, data_format=None, **kwargs):
        self.addition_factor = _factor("Solarization", "addition_factor",
                                       addition_factor, (0, 1), strict=True)
        self.threshold_factor = _factor("Solarization", "threshold_factor",
                                        threshold_factor, (0, 1), strict=True)
        self.value_range = _value_range("Solarization", value_range)
        super().__init__(seed=seed, data_format=data_format, **kwargs)

    def _augment(self, x, rng):
        k_add, k_thr = jax.random.split(rng)
        shape = (x.shape[0], 1, 1, 1)
        (a0, a1), (t0, t1) = self.addition_factor, self.threshold_factor
        add = jax.random.uniform(k_add, shape, x.dtype, a0, a1 * 255)
        threshold = jax.random.uniform(k_thr, shape, x.dtype, t0, t1 * 255)
        y = jnp.clip(_to_255(x, self.value_range) + add, 0, 255)
        return _from_255(jnp.where(y < threshold, y, 255 - y), self.value_range)

    def get_config(self):
        return {**super().get_config(), "addition_factor": self.addition_factor,
                "threshold_factor": self.threshold_factor, "value_range": self.value_range}


class RandomPosterization(_RandomImageLayer):
    """Keeps only the top `bits` bits of each 8-bit colour value (training only).

    On the 0-255 scale each pixel is truncated to an integer and its low `8 - bits` bits
    are zeroed. `bits` is drawn per image from `[factor[0], factor[1])`, as Keras does,
    or is `factor[0]` when both bounds are equal. Identity at inference.

    Args:
        factor: an integer `f` in `[1, 8]` for bits in `[1, f)` (or 1 if `f` is 1), or a
            `(min, max)` pair; `(4, 4)` always keeps 4 bits.
        value_range: the `(min, max)` of the input pixels (default `(0, 255)`).
        data_format: `"channels_last"` (default) or `"channels_first"`.
        seed: the initial seed state of `layer.generator` (random when None), drawn from
            in training when `apply` gets no `rng`.

    Example:
    >>> import jax, numpy as np
    >>> layer = RandomPosterization(factor=(2, 2))
    >>> y, _ = layer.apply({}, np.array([[[[100.0, 255.0]]]]), training=True,
    ...                    rng=jax.random.PRNGKey(0))
    >>> y.ravel().tolist()
    [64.0, 192.0]
    """

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        self.factor = _factor("RandomPosterization", "factor", factor, (1, 8))
        self.value_range = _value_range("RandomPosterization", value_range)
        super().__init__(seed=seed, data_format=data_format, **kwargs)

    def _augment(self, x, rng):
        low, high = int(self.factor[0]), int(self.factor[1])
        n = x.shape[0]
        if low != high:
            bits = jax.random.randint(rng, (n,), low, high, jnp.uint8)
        else:
            bits = jnp.full((n,), low, jnp.uint8)
        shift = _per_image(jnp.uint8(8) - bits)
        pixels = jnp.clip(_to_255(x, self.value_range), 0, 255).astype(jnp.uint8)
        kept = jnp.left_shift(jnp.right_shift(pixels, shift), shift)
        return _from_255(kept.astype(x.dtype), self.value_range)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range}
