"""MixUp and CutMix: mix each image (and its label) with another image of the batch.

Both follow Keras 3's algorithm (`keras.layers.MixUp` / `keras.layers.CutMix`) on a plain
batch of images or on a dict `{"images": ..., "labels": ...}`, and are the identity at
inference. In training they draw from the `rng` key passed to `apply` (one key per step in
`fit`), so they run inside the compiled training step without recompiling. The draws are
the same distributions as Keras' but from a different random stream: Keras advances a
`SeedGenerator` built from `seed`, kerax splits the `rng` key, so for the same `seed` the
two pick different partners and weights; given the same draws the outputs are equal.
"""

import jax
import jax.numpy as jnp

from kerax.layers.layer import Layer
from kerax.layers import seed_state
from kerax.layers.preprocessing._base import TrainingByDefault, as_float, data_format
from kerax.layers.preprocessing.color_jitter import _keras_factor
from kerax.layers.preprocessing.image_layer import image_dict
from kerax.random.seed_generator import SeedGenerator


class _MixingLayer(TrainingByDefault, Layer):
    """Checks the input (an image batch or a dict of them), then mixes it in training."""

    _KEYS = ("images", "labels")

    _keras_draws = 1  # seeds Keras' layer draws per training call (its counter's step)

    def __init__(self, seed=None, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.generator = SeedGenerator(seed)  # Keras' `generator` and its seed state
        self.data_format = _data_format(data_format)

    def _split(self, inputs):
        return image_dict(self, inputs, self._KEYS)

    def forward(self, params, state, inputs, training=False, rng=None, **kwargs):
        data = self._split(inputs)
        images = data["images"]
        if not training or images.ndim == 3:
            out = self._unmixed(data, training)
        else:
            rng, state = seed_state.draw(self, state, rng, "generator", self._keras_draws)
            out = self._mix(data, self._draw(images, rng))
        return (out if isinstance(inputs, dict) else out["images"]), state

    def _unmixed(self, data, training):
        return data

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "seed": self.seed}


_data_format = data_format


def _mix_labels(labels, permutation, weight):
    labels = jnp.asarray(labels)
    weight = weight.reshape((-1,) + (1,) * (labels.ndim - 1))
    return weight * labels + (1.0 - weight) * jnp.take(labels, permutation, axis=0)


class MixUp(_MixingLayer):
    """MixUp: blends each image (and label) with another image of the batch (training only).

    Each image `i` is paired with image `p[i]` of a random permutation `p` of the batch and
    becomes `w x[i] + (1 - w) x[p[i]]` with `w ~ Beta(alpha, alpha)` drawn per image; the
    labels (one-hot, given in a dict `{"images": ..., "labels": ...}`) are mixed with the
    same weights. Keras' algorithm; the draws come from the `rng` key (kerax's random
    stream differs from Keras' `SeedGenerator`, see the module docstring). At inference,
    and for a single unbatched image in training, the data pass through unchanged (a
    single image is only mixed with itself in Keras, which also leaves it unchanged but
    as floats).

    Args:
        alpha: the Beta distribution's concentration (default 0.2): small values mix
            little, larger values mix more.
        data_format: `"channels_last"` (default) or `"channels_first"`.
        seed: the initial seed state of `layer.generator` (random when None), drawn
            from when `apply` gets no `rng` (an eager call, `stateless_call`).

    Example:
    >>> import jax, numpy as np
    >>> layer = MixUp(alpha=0.2)
    >>> data = {"images": np.stack([np.zeros((2, 2, 1)), np.ones((2, 2, 1))]),
    ...         "labels": np.eye(2, dtype="float32")}
    >>> out, _ = layer.apply({}, data, training=True, rng=jax.random.PRNGKey(0))
    >>> bool(np.allclose(out["labels"].sum(axis=1), 1.0)), out["images"].shape
    (True, (2, 2, 2, 1))
    """

    _keras_draws = 2

    def __init__(self, alpha=0.2, data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.alpha = alpha

    def _draw(self, images, rng):
        """Keras' draws in Keras' order: the partner permutation, then the Beta weights."""
        n = images.shape[0]
        k_perm, k_weight = jax.random.split(rng)
        return {"permutation_order": jax.random.permutation(k_perm, n),
                "mix_weight": jax.random.beta(k_weight, self.alpha, self.alpha, (n,))}

    def _mix(self, data, transformation):
        perm, weight = transformation["permutation_order"], transformation["mix_weight"]
        images = as_float(self, data["images"])
        w = weight.reshape((-1, 1, 1, 1)).astype(images.dtype)
        out = {**data, "images": w * images + (1.0 - w) * jnp.take(images, perm, axis=0)}
        if "labels" in data:
            out["labels"] = _mix_labels(data["labels"], perm, weight)
        return out

    def _unmixed(self, data, training):
        if not training:
            return data
        out = {**data, "images": as_float(self, data["images"])}
        if "labels" in data:
            out["labels"] = jnp.asarray(data["labels"], "float32")
        return out

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}


class CutMix(_MixingLayer):
    """CutMix: pastes a random box of another image of the batch into each image
    (training only), mixing the labels by the pasted area.

    As Keras: one concentration `a ~ U(factor) + 1e-6` per batch, per image a weight
    `w ~ Beta(a, a)`; the box has sides `sqrt(1 - w)` times the image's height and width
    and a uniform random position; image `i` gets the box from image `p[i]` of a random
    permutation `p`, and its labels become `m y[i] + (1 - m) y[p[i]]` where `m` is the
    fraction of the image outside the box. The draws come from the `rng` key (kerax's
    random stream differs from Keras' `SeedGenerator`, see the module docstring). At
    inference, and for a single unbatched image, the images pass through as floats.

    Args:
        factor: a number `f` in `[0, 1]` for `U(0, f)`, or a `(min, max)` pair
            (default 1.0): the range of the Beta concentration.
        data_format: `"channels_last"` (default) or `"channels_first"`.
        seed: the initial seed state of `layer.generator` (random when None), drawn
            from when `apply` gets no `rng` (an eager call, `stateless_call`).

    Example:
    >>> import jax, numpy as np
    >>> layer = CutMix()
    >>> x = np.stack([np.zeros((4, 4, 1)), np.ones((4, 4, 1))]).astype("float32")
    >>> y, _ = layer.apply({}, x, training=True, rng=jax.random.PRNGKey(0))
    >>> y.shape, bool(np.isin(y, [0.0, 1.0]).all())
    ((2, 4, 4, 1), True)
    """

    _KEYS = ("images", "labels", "segmentation_masks")

    _keras_draws = 5

    def __init__(self, factor=1.0, seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = _keras_factor("CutMix", factor, (0, 1))

    def _axes(self, images):
        return (1, 2) if self.data_format == "channels_last" else (2, 3)

    def _draw(self, images, rng):
        """Keras' draws in Keras' order: the concentration, the weights, the box's left and
        top edges, then the partner permutation."""
        n = images.shape[0]
        h_axis, w_axis = self._axes(images)
        height, width = images.shape[h_axis], images.shape[w_axis]
        k_alpha, k_weight, k_x, k_y, k_perm = jax.random.split(rng, 5)
        dtype = self.dtype
        alpha = jax.random.uniform(k_alpha, (), dtype, *self.factor) + 1e-6
        weight = jax.random.beta(k_weight, alpha, alpha, (n,), dtype)
        ratio = jnp.sqrt(1.0 - weight)
        x0, x1 = _bounds(k_x, n, width, ratio, dtype)
        y0, y1 = _bounds(k_y, n, height, ratio, dtype)
        masks, mix_weight = self._batch_masks(images, (x0, x1, y0, y1))
        return {"permutation_order": jax.random.permutation(k_perm, n),
                "batch_masks": masks, "mix_weight": mix_weight, "box": (x0, x1, y0, y1)}

    def _batch_masks(self, images, box):
        """Keras' `_generate_batch_mask`: which pixels lie in each image's box."""
        h_axis, w_axis = self._axes(images)
        height, width = images.shape[h_axis], images.shape[w_axis]
        x0, x1, y0, y1 = (c.reshape((-1, 1, 1)) for c in box)
        dtype = self.dtype
        gy = jnp.arange(height, dtype=dtype)[None, :, None]
        gx = jnp.arange(width, dtype=dtype)[None, None, :]
        masks = (gx >= x0) & (gx < x1) & (gy >= y0) & (gy < y1)
        masks = masks[..., None] if self.data_format == "channels_last" else masks[:, None]
        mix_weight = 1.0 - (x1 - x0) * (y1 - y0) / (width * height)
        return masks, mix_weight.reshape((-1, 1, 1, 1))

    def _paste(self, x, transformation):
        x = as_float(self, x)
        partner = jnp.take(x, transformation["permutation_order"], axis=0)
        return jnp.where(transformation["batch_masks"], partner, x)

    def _mix(self, data, transformation):
        out = {**data, "images": self._paste(data["images"], transformation)}
        if "segmentation_masks" in data:
            out["segmentation_masks"] = self._paste(data["segmentation_masks"], transformation)
        if "labels" in data:
            out["labels"] = _mix_labels(data["labels"], transformation["permutation_order"],
                                        transformation["mix_weight"])
        return out

    def _unmixed(self, data, training):
        out = {**data, "images": as_float(self, data["images"])}
        if "segmentation_masks" in data:
            out["segmentation_masks"] = as_float(self, data["segmentation_masks"])
        return out

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


def _bounds(rng, n, length, ratio, dtype):
    """Keras' `_compute_crop_bounds`: a box side of `ratio * length` at a uniform offset."""
    crop = (ratio * length).astype(dtype)
    start = jax.random.uniform(rng, (n,), dtype) * (length - crop)
    return start, start + crop
