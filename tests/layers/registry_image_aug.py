"""Conformance cases for the Keras-ported image layers (RandomPerspective,
RandomElasticTransform, CLAHE, MaxNumBoundingBoxes, RandAugment, AugMix); their seeded
training parity with Keras is in test_image_aug.py and test_rand_augment.py."""

from tests.layers.conformance import Case


def _pixels(rng):
    return [rng.uniform(0, 255, (2, 8, 6, 3)).astype("float32")]


_RANDOM = dict(make_inputs=_pixels, training_parity=False, bad_input_shape=(2, 3))

CASES = [
    Case("RandomPerspective", dict(scale=0.4, seed=3), **_RANDOM),
    Case("RandomElasticTransform", dict(scale=0.5, seed=3), **_RANDOM),
    Case("ContrastLimitedAdaptiveHistogramEqualization", dict(tile_grid_size=(2, 2)),
         make_inputs=_pixels, bad_input_shape=(2, 3), grad=False),
    Case("RandAugment", dict(seed=3), **_RANDOM),
    Case("AugMix", dict(seed=3, num_chains=2, chain_depth=2), **_RANDOM),
    Case("MaxNumBoundingBoxes", dict(max_number=3), make_inputs=_pixels,
         bad_input_shape=(2, 3)),
]
