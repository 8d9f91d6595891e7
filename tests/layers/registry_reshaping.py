"""Conformance cases for Permute, RepeatVector, Cropping, ZeroPadding and UpSampling."""

from tests.layers.conformance import Case

CF = "channels_first"
IMG, SEQ, VOL = (2, 5, 6, 3), (2, 7, 3), (1, 4, 5, 3, 2)


def _variant(layer, kwargs, shape, id, **extra):
    return Case(layer, kwargs, shape, id=id, training_parity=False, vmap=False, **extra)


CASES = [
    Case("Permute", dict(dims=(2, 1)), SEQ, bad_input_shape=(2, 7)),
    _variant("Permute", dict(dims=(3, 1, 2)), IMG, "rank4"),
    Case("RepeatVector", dict(n=3), (2, 4), bad_input_shape=(2, 4, 1)),
    Case("Cropping1D", dict(cropping=(1, 2)), SEQ, bad_input_shape=(7, 3)),
    Case("Cropping2D", dict(cropping=((1, 0), (2, 1))), IMG, bad_input_shape=(5, 6, 3)),
    _variant("Cropping2D", dict(cropping=(1, 2), data_format=CF), (2, 3, 6, 7), "cf"),
    Case("Cropping3D", dict(cropping=(1, (0, 2), 1)), VOL, bad_input_shape=(4, 5, 3, 2)),
    Case("ZeroPadding1D", dict(padding=(1, 2)), SEQ, bad_input_shape=(7, 3)),
    Case("ZeroPadding2D", dict(padding=((1, 0), (2, 1))), IMG, bad_input_shape=(5, 6, 3)),
    _variant("ZeroPadding2D", dict(padding=2, data_format=CF), (2, 3, 6, 7), "cf"),
    Case("ZeroPadding3D", dict(padding=(1, 0, 2)), VOL, bad_input_shape=(4, 5, 3, 2)),
    Case("UpSampling1D", dict(size=3), SEQ, bad_input_shape=(7, 3)),
    Case("UpSampling2D", dict(size=(2, 3)), IMG, bad_input_shape=(5, 6, 3)),
    _variant("UpSampling2D", dict(interpolation="bilinear"), IMG, "bilinear"),
    _variant("UpSampling2D", dict(size=3, interpolation="bilinear", data_format=CF),
             (2, 3, 4, 5), "bilinear-cf"),
    _variant("UpSampling2D", dict(size=2, interpolation="bicubic"), IMG, "bicubic"),
    Case("UpSampling3D", dict(size=(1, 2, 2), data_format=CF), VOL,
         bad_input_shape=(4, 5, 3, 2)),
]
