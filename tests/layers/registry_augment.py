"""Conformance cases for the image augmentation layers (RandomCrop, colour augmentations).

Random layers are compared with Keras at inference; the cases whose training output is
deterministic (probability 1, fixed factors) are compared in training too.
"""

from tests.layers.conformance import Case

IMG = (2, 6, 5, 3)
_RANDOM = dict(training_parity=False, bad_input_shape=(2, 3))


def _pixels(rng):
    return [rng.uniform(0, 255, IMG).astype("float32")]


# Keras 3.15 returns RandomCrop's input unchanged at inference (keras-team/keras#21868);
# kerax crops as Keras documents, checked against keras.layers.Resizing in
# test_random_crop_and_colour_augment.py.
_CROP = dict(_RANDOM, skip=("keras_parity",))

CASES = [
    Case("RandomCrop", dict(height=4, width=3), make_inputs=_pixels, **_CROP),
    Case("RandomCrop", dict(height=8, width=4), make_inputs=_pixels, id="upsize", **_CROP),
    Case("RandomCrop", dict(height=3, width=4, data_format="channels_first"),
         make_inputs=lambda rng: [rng.uniform(0, 255, (2, 3, 6, 5)).astype("float32")],
         id="channels_first", **_CROP),
    Case("RandomGrayscale", {}, make_inputs=_pixels, **_RANDOM),
    Case("RandomGrayscale", dict(factor=1.0), make_inputs=_pixels, id="always",
         bad_input_shape=(2, 3)),
    Case("RandomInvert", {}, make_inputs=_pixels, **_RANDOM),
    Case("RandomInvert", dict(factor=(1.0, 1.0)), make_inputs=_pixels, id="always",
         bad_input_shape=(2, 3)),
    Case("Solarization", dict(addition_factor=0.2, threshold_factor=0.5),
         make_inputs=_pixels, id="random", **_RANDOM),
    Case("Solarization", {}, make_inputs=_pixels, bad_input_shape=(2, 3)),
    Case("RandomPosterization", dict(factor=6), make_inputs=_pixels, **_RANDOM),
    Case("RandomPosterization", dict(factor=(3, 3)), make_inputs=_pixels, id="fixed",
         grad=False, bad_input_shape=(2, 3)),
]
