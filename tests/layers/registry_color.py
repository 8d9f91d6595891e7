"""Conformance cases for the colour/contrast image layers (AutoContrast, Equalization,
RandomSharpness, RandomSaturation, RandomHue).

Deterministic layers and the fixed-factor forms of the random ones are compared with
Keras in training too; the others at inference only.
"""

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
    Case("AutoContrast", {}, make_inputs=_pixels, **_BAD),
    Case("AutoContrast", dict(value_range=(0, 1)), make_inputs=_unit_pixels, id="unit",
         **_BAD),
    Case("Equalization", {}, make_inputs=_pixels, grad=False, **_BAD),
    Case("Equalization", dict(bins=16, data_format="channels_first"),
         make_inputs=_channels_first, id="channels_first", grad=False, **_BAD),
    Case("RandomSharpness", dict(factor=0.8), make_inputs=_pixels, **_RANDOM),
    Case("RandomSharpness", dict(factor=(0.9, 0.9)), make_inputs=_pixels, id="fixed", **_BAD),
    Case("RandomSaturation", dict(factor=0.5), make_inputs=_pixels, **_RANDOM),
    Case("RandomSaturation", dict(factor=(0.3, 0.3), value_range=(0, 1)),
         make_inputs=_unit_pixels, id="fixed", **_BAD),
    Case("RandomHue", dict(factor=0.5), make_inputs=_pixels, **_RANDOM),
    Case("RandomHue", dict(factor=0.0, data_format="channels_first"),
         make_inputs=_channels_first, id="fixed", rtol=1e-4, atol=1e-3, **_BAD),
]
