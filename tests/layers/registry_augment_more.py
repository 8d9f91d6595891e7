"""Conformance cases for the extra image augmentations (RandomColorDegeneration,
RandomGaussianBlur, RandomErasing, RandomShear, RandomColorJitter) and `Pipeline`.

Fixed-factor forms are compared with Keras in training too; the others at inference only.
`Pipeline` holds layer objects, so its Keras parity is checked in test_augment_more.py.
"""

import kerax.layers as kl
from tests.layers.conformance import Case

IMG = (2, 6, 5, 3)
_BAD = dict(bad_input_shape=(2, 3))
_RANDOM = dict(training_parity=False, **_BAD)


def _pixels(rng):
    return [rng.uniform(0, 255, IMG).astype("float32")]


def _unit_pixels(rng):
    return [rng.uniform(0, 1, IMG).astype("float32")]


def _channels_first(rng):
    return [rng.uniform(0, 255, (2, 3, 6, 5)).astype("float32")]


CASES = [
    Case("RandomColorDegeneration", dict(factor=0.5), make_inputs=_pixels, **_RANDOM),
    Case("RandomColorDegeneration", dict(factor=(0.4, 0.4), data_format="channels_first"),
         make_inputs=_channels_first, id="fixed", **_BAD),
    Case("RandomGaussianBlur", {}, make_inputs=_pixels, **_RANDOM),
    Case("RandomGaussianBlur", dict(factor=(1.0, 1.0), kernel_size=(3, 5), sigma=(0.7, 0.7)),
         make_inputs=_pixels, id="fixed", **_BAD),
    Case("RandomErasing", {}, make_inputs=_pixels, **_RANDOM),
    Case("RandomErasing", dict(factor=(1.0, 1.0), scale=(1.0, 1.0), fill_value=3.0),
         make_inputs=_pixels, id="fixed", **_BAD),
    Case("RandomShear", dict(x_factor=0.3, y_factor=(0.1, 0.2)), make_inputs=_pixels,
         **_RANDOM),
    Case("RandomShear", dict(fill_mode="constant"), make_inputs=_pixels, id="fixed", **_BAD),
    Case("RandomColorJitter", dict(brightness_factor=0.2, contrast_factor=0.3,
                                   saturation_factor=0.5, hue_factor=0.2),
         make_inputs=_pixels, **_RANDOM),
    Case("RandomColorJitter", dict(value_range=(0, 1), brightness_factor=(0.1, 0.1),
                                   contrast_factor=(0.0, 0.0), saturation_factor=(0.5, 0.5)),
         make_inputs=_unit_pixels, id="fixed", **_BAD),
    Case("Pipeline", dict(layers=[kl.RandomFlip(), kl.Rescaling(0.5)]), make_inputs=_pixels,
         training_parity=False, skip=("keras_parity", "keras_config")),
]
