"""`RandAugment`: Keras 3's RandAugment policy (random operations of a fixed strength)."""


from kerax.layers.preprocessing.augment_ops import make_ops, switch
from kerax.layers.preprocessing.image_layer import ImagePreprocessingLayer, keras_factor
from kerax.random import random as krandom

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
        self._ops = make_ops(self.factor, value_range, interpolation, self.data_format,
                             self.compute_dtype)

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

    def transform_segmentation_masks(self, masks, transformation, training=True):
        if not training:
            return masks
        raise NotImplementedError(
            "RandAugment does not transform segmentation masks in kerax yet (Keras 3 applies "
            "the same operations to them). Pass the masks around the layer.")

    def get_config(self):
        return {**super().get_config(), "value_range": self.value_range,
                "num_ops": self.num_ops, "factor": self.factor,
                "interpolation": self.interpolation, "seed": self.seed}
