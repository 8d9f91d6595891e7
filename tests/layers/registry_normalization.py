from tests.layers.conformance import Case

CASES = [
    Case("BatchNormalization", {}, (4, 3), bad_input_shape=(4,)),
    Case("BatchNormalization", dict(axis=1, center=False, momentum=0.9, epsilon=1e-2),
         (3, 2, 4), id="axis1"),
    Case("LayerNormalization", {}, (2, 5), bad_input_shape=(2, 3)),
    Case("LayerNormalization", dict(axis=[1, 2], scale=False), (2, 3, 4), id="axes12"),
    Case("LayerNormalization", dict(rms_scaling=True), (2, 3, 4), id="rms"),
    Case("GroupNormalization", dict(groups=2), (2, 3, 4), bad_input_shape=(2, 3, 6)),
    Case("GroupNormalization", dict(groups=-1, axis=1, epsilon=1e-2), (2, 3, 4), id="instance"),
    Case("RMSNormalization", {}, (2, 4), bad_input_shape=(2, 3)),
    Case("RMSNormalization", dict(axis=[1, 2]), (2, 3, 4), id="axes12"),
    Case("UnitNormalization", {}, (2, 4), bad_input_shape=()),
    Case("UnitNormalization", dict(axis=[1, 2]), (2, 3, 4), id="axes12"),
]
