"""Conformance cases for the adaptive pooling layers (see conformance.py)."""

from tests.layers.conformance import Case

CF = "channels_first"
SEQ, IMG, VOL = (2, 7, 3), (2, 7, 5, 3), (1, 5, 4, 3, 2)


def _variant(layer, kwargs, shape, id):
    return Case(layer, kwargs, shape, id=id, training_parity=False, vmap=False)


CASES = [
    # 7 -> 3 and 5 -> 2: bins of unequal, overlapping widths.
    Case("AdaptiveAveragePooling1D", dict(output_size=3), SEQ, bad_input_shape=(7, 3)),
    Case("AdaptiveMaxPooling1D", dict(output_size=(3,)), SEQ, bad_input_shape=(7, 3)),
    Case("AdaptiveAveragePooling2D", dict(output_size=(3, 2)), IMG,
         bad_input_shape=(7, 5, 3)),
    Case("AdaptiveMaxPooling2D", dict(output_size=3), IMG, bad_input_shape=(7, 5, 3)),
    Case("AdaptiveAveragePooling3D", dict(output_size=(2, 3, 2)), VOL,
         bad_input_shape=(5, 4, 3, 2)),
    Case("AdaptiveMaxPooling3D", dict(output_size=2), VOL, bad_input_shape=(5, 4, 3, 2)),
    # channels first, and an output larger than the input (positions repeat).
    _variant("AdaptiveAveragePooling1D", dict(output_size=10, data_format=CF), SEQ, "cf-up"),
    _variant("AdaptiveMaxPooling1D", dict(output_size=4, data_format=CF), (2, 3, 9), "cf"),
    _variant("AdaptiveAveragePooling2D", dict(output_size=(4, 9), data_format=CF), IMG,
             "cf-up"),
    _variant("AdaptiveMaxPooling2D", dict(output_size=(2, 8)), IMG, "up"),
    _variant("AdaptiveMaxPooling3D", dict(output_size=(3, 2, 4), data_format=CF), VOL,
             "cf-up"),
]
