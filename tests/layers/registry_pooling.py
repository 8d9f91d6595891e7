"""Conformance cases for the pooling layers (see conformance.py)."""

import numpy as np

from tests.layers.conformance import Case

CF = "channels_first"
IMG, SEQ, VOL = (2, 5, 5, 3), (2, 7, 3), (1, 4, 5, 4, 2)
MASK = np.array([[1, 1, 0, 1, 0, 0, 1], [1, 0, 0, 0, 0, 0, 0]], bool)


def _variant(layer, kwargs, shape, id, **extra):
    return Case(layer, kwargs, shape, id=id, training_parity=False, vmap=False, **extra)


def _alias(name, shape):
    """A Keras alias (the same class under another name): no second Keras comparison."""
    kwargs = {} if name.startswith("Global") else dict(pool_size=2)
    return Case(name, kwargs, shape, id="alias", vmap=False, skip=("keras_parity",))


CASES = [
    Case("MaxPooling1D", {}, SEQ, bad_input_shape=(7, 3)),
    _variant("MaxPooling1D", dict(pool_size=3, strides=2, padding="same", data_format=CF),
             SEQ, "same-cf"),
    Case("MaxPooling2D", {}, IMG, bad_input_shape=(5, 5, 3)),
    _variant("MaxPooling2D", dict(pool_size=(3, 2), strides=(2, 1), padding="same"), IMG,
             "same-strided"),
    _variant("MaxPooling2D", dict(pool_size=2, strides=1, data_format=CF), IMG, "cf"),
    Case("MaxPooling3D", dict(padding="same"), VOL, bad_input_shape=(1, 4, 5, 2)),
    Case("AveragePooling1D", dict(pool_size=3, strides=2, padding="same"), SEQ,
         bad_input_shape=(7, 3)),
    Case("AveragePooling2D", dict(pool_size=2), IMG, bad_input_shape=(5, 5, 3)),
    _variant("AveragePooling2D", dict(pool_size=3, strides=2, padding="same"), IMG, "same"),
    _variant("AveragePooling2D", dict(pool_size=(2, 3), padding="same", data_format=CF), IMG,
             "same-cf"),
    Case("AveragePooling3D", dict(pool_size=2, strides=(1, 2, 2), padding="same"), VOL,
         bad_input_shape=(1, 4, 5, 2)),
    Case("GlobalMaxPooling1D", {}, SEQ, bad_input_shape=(7, 3)),
    Case("GlobalMaxPooling2D", dict(keepdims=True, data_format=CF), IMG,
         bad_input_shape=(5, 5, 3)),
    Case("GlobalMaxPooling3D", {}, VOL, bad_input_shape=(1, 4, 5, 2)),
    Case("GlobalAveragePooling1D", {}, SEQ, bad_input_shape=(7, 3)),
    _variant("GlobalAveragePooling1D", dict(keepdims=True), SEQ, "mask",
             call_kwargs={"mask": MASK}),
    _variant("GlobalAveragePooling1D", dict(data_format=CF), (2, 3, 7), "mask-cf",
             call_kwargs={"mask": MASK}),
    Case("GlobalAveragePooling2D", {}, IMG, bad_input_shape=(5, 5, 3)),
    Case("GlobalAveragePooling3D", dict(keepdims=True), VOL, bad_input_shape=(1, 4, 5, 2)),
] + [_alias(f"{kind}{n}D", shape) for kind in ("MaxPool", "AvgPool", "GlobalMaxPool",
                                                "GlobalAvgPool")
     for n, shape in ((1, SEQ), (2, IMG), (3, VOL))]
