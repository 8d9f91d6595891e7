"""`RandAugment`: Keras 3's RandAugment policy (random operations of a fixed strength)."""


import jax.numpy as jnp

from kerax.layers.preprocessing.augment_ops import make_ops, sublayers, switch
from kerax.layers.preprocessing.image_layer import ImagePreprocessingLayer, keras_factor
from kerax.random import random as krandom

# Keras' `_AUGMENT_LAYERS`: the order of creation and of the picks.
AUGMENT_LAYERS = ("random_shear", "random_translation", "random_rotation", "random_brightness",
                  "random_color_degeneration", "random_contrast", "random_sharpness",
                  "random_posterization", "solarization", "auto_contrast", "equalization")
# Keras creates Solarization before RandomPosterization.
_CREATED = AUGMENT_LAYERS[:7] + ("solarization", "random_posterization") + AUGMENT_LAYERS[9:]

_INTERPOLATIONS = ("nearest", "bilinear")


def check_interpolation(name, interpolation):
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(f"{name}: unknown `interpolation` {interpolation!r}. Expected one "
                         f"of {_INTERPOLATIONS}.")
    return interpolation


class RandAugment(ImagePreprocessingLayer):
    """Applies `num_ops` operations, each chosen at random from eleven, to the batch
    (training only).

    As Keras 3: the operations are shear, translation, rotation, brightness, colour
    degeneration, contrast, sharpness, posterization, solarization, auto-contrast and
    equalization, built with `factor` as their strength; one draw picks the `num_ops`
    operations for the whole batch, then each operation draws its own parameters per
    image. With the same `seed`, an eager call draws and returns what Keras returns; in
    `fit` the picks come from the step's key and change every step, without recompiling
    (only the picked operation runs, via `lax.switch`).

    Takes Keras' dict `{"images", "labels", "bounding_boxes", "segmentation_masks"}` too.
    Masks go through the picked operations in turn (the geometric ones move them with
    `"nearest"`, the others leave them). Boxes (in `bounding_box_format`) are moved as
    Keras 3.15 moves them: each geometric operation picked at least once moves them once,
    in the order shear, translation, rotation, whatever the order and number of its picks.
    (The rotation converts boxes from `bounding_box_format`, as kerax's `RandomRotation`
    does; Keras 3.15's reads them as `"xyxy"` whatever the format.)

    As in Keras, the layer holds the eleven operations as sub-layers (`layer.random_shear`,
    ...); they get its `seed` and keyword arguments, their seed states are listed in
    `non_trainable_variables` after the layer's own, and all draws come from the layer's
    own `generator`.

    Args:
        value_range: the range of the pixel values (default `(0, 255)`).
        num_ops: how many operations to apply in sequence (default 2).
        factor: the strength, a number `f` in `[0, 1]` for `(0, f)` or a `(min, max)`
            pair (default 0.5).
        interpolation: `"bilinear"` (default) or `"nearest"` for the geometric operations.
        seed: the initial seed state of `layer.generator` (random when None).
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Example:
    >>> import numpy as np
    >>> x = np.random.default_rng(0).uniform(0, 255, (2, 8, 8, 3)).astype("float32")
    >>> y = RandAugment(seed=1)(x)
    >>> y.shape, bool((y >= 0).all() and (y <= 255).all())
    ((2, 8, 8, 3), True)
    """

    _random = True

    def __init__(self, value_range=(0, 255), num_ops=2, factor=0.5, interpolation="bilinear",
                 seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        if isinstance(num_ops, bool) or not isinstance(num_ops, int) or num_ops < 0:
            raise ValueError("RandAugment: `num_ops` must be a non-negative integer. "
                             f"Received: num_ops={num_ops!r}")
        self.value_range, self.num_ops = value_range, num_ops
        self.factor = keras_factor("RandAugment", factor, (0, 1))
        self.interpolation = check_interpolation("RandAugment", interpolation)
        for name, sub in sublayers(_CREATED, self.factor, value_range, interpolation, seed,
                                   data_format, **kwargs).items():
            setattr(self, name, sub)
        self._ops = make_ops(self, AUGMENT_LAYERS)

    def get_random_transformation(self, images, training=True, draws=None):
        if not training:
            return None
        picks = krandom.randint((self.num_ops,), 0, len(self._ops), seed=draws.next())
        return {"layer_idxes": picks,
                "transforms": {name: op.draw(images, draws) for name, op in self._ops.items()}}

    def transform_images(self, images, transformation, training=True):
        images = images.astype(self.compute_dtype)
        if not training:
            return images
        transforms = transformation["transforms"]
        branches = [lambda x, op=op, name=name: op.apply(x, transforms[name]).astype(x.dtype)
                    for name, op in self._ops.items()]
        for i in range(self.num_ops):
            images = switch(transformation["layer_idxes"][i], branches, images)
        return images.astype(self.compute_dtype)

    def transform_bounding_boxes(self, bounding_boxes, transformation, training=True):
        if not training:
            return bounding_boxes
        picks = transformation["layer_idxes"]
        for idx, (name, op) in enumerate(self._ops.items()):
            moved = op.boxes(dict(bounding_boxes), transformation["transforms"][name])
            picked = jnp.any(picks == idx)
            bounding_boxes = {**bounding_boxes, **{
                key: jnp.where(picked, moved[key], bounding_boxes[key])
                for key in ("boxes", "labels")}}
        return bounding_boxes

    def transform_segmentation_masks(self, masks, transformation, training=True):
        if not training:
            return masks
        transforms = transformation["transforms"]
        branches = [lambda m, op=op, name=name: op.masks(m, transforms[name]).astype(m.dtype)
                    for name, op in self._ops.items()]
        masks = jnp.asarray(masks)
        for i in range(self.num_ops):
            masks = switch(transformation["layer_idxes"][i], branches, masks)
        return masks

    def get_config(self):
        return {**super().get_config(), "value_range": self.value_range,
                "num_ops": self.num_ops, "factor": self.factor,
                "interpolation": self.interpolation, "seed": self.seed}
