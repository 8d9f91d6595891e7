"""`AugMix`: Keras 3's AugMix (a blend of randomly augmented copies of each batch)."""

import jax.numpy as jnp

from kerax.layers.preprocessing.augment_ops import make_ops, sublayers, switch
from kerax.layers.preprocessing.image_layer import ImagePreprocessingLayer, keras_factor
from kerax.layers.preprocessing.rand_augment import check_interpolation
from kerax.random import random as krandom

_BASIC = ("random_shear", "random_translation", "random_rotation", "random_posterization",
          "solarization", "auto_contrast", "equalization")
_ALL = _BASIC + ("random_brightness", "random_color_degeneration", "random_contrast",
                 "random_sharpness")
# Keras creates Solarization before RandomPosterization.
_CREATED = _BASIC[:3] + ("solarization", "random_posterization") + _ALL[5:]


class AugMix(ImagePreprocessingLayer):
    """Blends the batch with `num_chains` augmented copies of it (training only).

    As Keras 3: chain weights `w ~ Dirichlet(alpha)` and a blend `m ~ Beta(alpha, alpha)`;
    each chain applies up to `chain_depth` operations (each slot picks one of the
    operations or none), and the output is `m x + (1 - m) sum_c w_c chain_c(x)`, clipped
    to `value_range`. The operations are RandAugment's (with `all_ops=False`, only the
    geometric ones, posterization, solarization, auto-contrast and equalization).

    With the same `seed` the weights `w` and `m` are Keras'. Keras picks the operations
    with Python's global `random` module when the call is traced, so inside its compiled
    `fit` step every batch gets the same operations; kerax picks them from the layer's
    key (one draw, then each slot's operation parameters), so they change every step,
    without recompiling (only the picked operation runs). Given the same picks and
    parameters the outputs are Keras'.

    Takes Keras' dict `{"images", "labels", "bounding_boxes", "segmentation_masks"}` too:
    masks are blended as the images are (the geometric operations move them with
    `"nearest"`; not clipped; integer masks come back as floats, as in Keras); bounding
    boxes and labels are returned as they are, as Keras 3.15 returns them. As in Keras, the layer holds its
    operations as sub-layers (`layer.random_shear`, ...) whose seed states are listed in
    `non_trainable_variables` after its own; all draws come from its own `generator`.

    Args:
        value_range: the range of the pixel values (default `(0, 255)`).
        num_chains: the number of augmented copies (default 3).
        chain_depth: the most operations per copy (default 3).
        factor: the strength of the operations, a number `f` in `[0, 1]` or a
            `(min, max)` pair (default 0.3).
        alpha: the Beta and Dirichlet concentration (default 1.0).
        all_ops: also use brightness, colour degeneration, contrast and sharpness
            (default True).
        interpolation: `"bilinear"` (default) or `"nearest"`.
        seed: the initial seed state of `layer.generator` (random when None).
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Example:
    >>> import numpy as np
    >>> x = np.random.default_rng(0).uniform(0, 255, (2, 8, 8, 3)).astype("float32")
    >>> AugMix(seed=1)(x).shape
    (2, 8, 8, 3)
    """

    _random = True

    def __init__(self, value_range=(0, 255), num_chains=3, chain_depth=3, factor=0.3,
                 alpha=1.0, all_ops=True, interpolation="bilinear", seed=None,
                 data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        for name, value in (("num_chains", num_chains), ("chain_depth", chain_depth)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"AugMix: `{name}` must be a positive integer. Received: "
                                 f"{name}={value!r}")
        self.value_range, self.num_chains, self.chain_depth = value_range, num_chains, chain_depth
        self.factor = keras_factor("AugMix", factor, (0, 1))
        self.alpha, self.all_ops = alpha, all_ops
        self.interpolation = check_interpolation("AugMix", interpolation)
        names = _ALL if all_ops else _BASIC
        for name, sub in sublayers([n for n in _CREATED if n in names], self.factor,
                                   value_range, interpolation, seed, data_format,
                                   **kwargs).items():
            setattr(self, name, sub)
        self._ops = make_ops(self, names)

    def get_random_transformation(self, images, training=True, draws=None):
        if not training:
            return None
        gamma = krandom.gamma([self.num_chains], self.alpha, seed=draws.next())
        weights = gamma / jnp.sum(gamma, axis=-1, keepdims=True)
        blend = krandom.beta((), self.alpha, self.alpha, seed=draws.next())
        picks = krandom.randint((self.num_chains, self.chain_depth), 0, len(self._ops) + 1,
                                seed=draws.next())
        slots = [[{name: op.draw(images, draws) for name, op in self._ops.items()}
                  for _ in range(self.chain_depth)] for _ in range(self.num_chains)]
        return {"chain_mixing_weights": weights, "weight_sample": blend, "picks": picks,
                "transforms": slots}

    def _blend(self, x, transformation, method):
        """Keras' mix: `m x + (1 - m) sum_c w_c chain_c(x)`, each chain applying its
        picked operations' `method` ("apply" for images, "masks" for masks)."""
        dtype = self.compute_dtype
        weights = transformation["chain_mixing_weights"].astype(dtype)
        blend = jnp.asarray(transformation["weight_sample"]).astype(dtype)
        mixed = jnp.zeros_like(x)
        for c in range(self.num_chains):
            y = x
            for d in range(self.chain_depth):
                slot = transformation["transforms"][c][d]
                branches = [lambda v, f=getattr(op, method), name=name:
                            f(v, slot[name]).astype(v.dtype)
                            for name, op in self._ops.items()] + [lambda v: v]
                y = switch(transformation["picks"][c, d], branches, y)
            mixed = mixed + y * weights[c]
        return blend * x + (1 - blend) * mixed

    def transform_images(self, images, transformation, training=True):
        images = images.astype(self.compute_dtype)
        if not training:
            return images
        images = self._blend(images, transformation, "apply")
        return jnp.clip(images, self.value_range[0], self.value_range[1]).astype(
            self.compute_dtype)

    def transform_bounding_boxes(self, bounding_boxes, transformation, training=True):
        return bounding_boxes  # as Keras 3.15: the boxes are not moved with the images

    def transform_segmentation_masks(self, masks, transformation, training=True):
        if not training:
            return masks
        masks = jnp.asarray(masks)
        # Keras' blend promotes integer masks to the compute dtype.
        masks = masks.astype(jnp.promote_types(masks.dtype, self.compute_dtype))
        return self._blend(masks, transformation, "masks")

    def get_config(self):
        return {**super().get_config(), "value_range": self.value_range,
                "num_chains": self.num_chains, "chain_depth": self.chain_depth,
                "factor": self.factor, "alpha": self.alpha, "all_ops": self.all_ops,
                "interpolation": self.interpolation, "seed": self.seed}
