"""Conformance cases for MixUp and CutMix (compared with Keras at inference; their
training parity under equal draws is in test_mixing.py)."""

from tests.layers.conformance import Case


def _pixels(rng):
    return [rng.uniform(0, 255, (3, 4, 5, 2)).astype("float32")]


_RANDOM = dict(make_inputs=_pixels, training_parity=False, bad_input_shape=(2, 3))

CASES = [
    Case("MixUp", dict(alpha=0.4, seed=3), **_RANDOM),
    Case("CutMix", dict(factor=(0.2, 0.8)), **_RANDOM),
]
