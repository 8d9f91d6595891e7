from tests.layers.conformance import Case

_RANDOM = dict(training_parity=False)

CASES = [
    Case("SpatialDropout1D", dict(rate=0.5), (2, 3, 4), bad_input_shape=(2, 4), **_RANDOM),
    Case("SpatialDropout2D", dict(rate=0.5), (2, 3, 3, 2), bad_input_shape=(2, 3, 2),
         **_RANDOM),
    Case("SpatialDropout2D", dict(rate=0.5, data_format="channels_first"), (2, 2, 3, 3),
         id="channels_first", **_RANDOM),
    Case("SpatialDropout3D", dict(rate=0.5), (2, 2, 2, 2, 3), bad_input_shape=(2, 2, 2, 3),
         **_RANDOM),
    Case("GaussianNoise", dict(stddev=0.3), (2, 4), **_RANDOM),
    Case("GaussianDropout", dict(rate=0.3), (2, 4), **_RANDOM),
    Case("AlphaDropout", dict(rate=0.3, noise_shape=(None, 1)), (2, 4), **_RANDOM),
    Case("ActivityRegularization", dict(l1=0.1, l2=0.01), (2, 4)),
]
