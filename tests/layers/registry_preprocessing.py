"""Conformance cases for the preprocessing layers (random ones: inference-mode parity)."""

import numpy as np

from tests.layers.conformance import Case

IMG = (2, 6, 5, 3)
_RANDOM = dict(training_parity=False, bad_input_shape=(2, 3))


def _pixels(rng):
    return [rng.uniform(0, 255, IMG).astype("float32")]


def _ids(high, shape):
    return lambda rng: [rng.integers(0, high, shape).astype("int32")]


CASES = [
    # Keras' Hashing needs TensorFlow (FarmHash via tf.strings), and hashing runs on the host
    # (it cannot be traced): parity is checked against FarmHash in test_hashing.py.
    Case("Hashing", dict(num_bins=5), make_inputs=_ids(100, (2, 3)), input_dtype="int32",
         grad=False, skip=("keras_parity", "keras_config", "jit", "vmap")),
    Case("Normalization", {}, (2, 3)),
    Case("Normalization", dict(mean=[1.0, 2.0, 3.0], variance=[1.0, 4.0, 9.0]), (2, 3),
         id="given"),
    Case("Normalization", dict(axis=None, mean=2.0, variance=4.0, invert=True), (2, 3),
         id="invert"),
    Case("Rescaling", dict(scale=1 / 255, offset=-0.5), IMG),
    Case("Resizing", dict(height=4, width=3), IMG, bad_input_shape=(2, 3)),
    Case("Resizing", dict(height=8, width=4, interpolation="nearest",
                          crop_to_aspect_ratio=True), IMG, id="nearest_crop"),
    Case("Resizing", dict(height=4, width=4, interpolation="bicubic",
                          pad_to_aspect_ratio=True), IMG, id="bicubic_pad"),
    Case("Resizing", dict(height=3, width=4, data_format="channels_first"), (2, 3, 6, 5),
         id="channels_first"),
    Case("CenterCrop", dict(height=4, width=3), IMG, bad_input_shape=(2, 3)),
    Case("CenterCrop", dict(height=8, width=4), IMG, id="upsize"),
    Case("RandomFlip", {}, make_inputs=_pixels, **_RANDOM),
    Case("RandomRotation", dict(factor=0.2), make_inputs=_pixels, **_RANDOM),
    Case("RandomZoom", dict(height_factor=0.2), make_inputs=_pixels, **_RANDOM),
    Case("RandomTranslation", dict(height_factor=0.2, width_factor=0.1), make_inputs=_pixels,
         **_RANDOM),
    Case("RandomContrast", dict(factor=0.3), make_inputs=_pixels, **_RANDOM),
    Case("RandomBrightness", dict(factor=0.3), make_inputs=_pixels, **_RANDOM),
    # float64 inputs: the generic check expects float32 outputs for float32 inputs, and
    # output_mode="int" returns integer bucket ids, as Keras does.
    Case("Discretization", dict(bin_boundaries=[-1.0, 0.0, 0.5]), (2, 4), grad=False,
         input_dtype="float64", bad_input_shape=None),
    Case("Discretization", dict(bin_boundaries=[0.0, 1.0], output_mode="one_hot"), (3,),
         id="one_hot", grad=False, vmap=False),
    Case("CategoryEncoding", dict(num_tokens=5), make_inputs=_ids(5, (2, 3)), grad=False,
         input_dtype="int32"),
    Case("CategoryEncoding", dict(num_tokens=5, output_mode="one_hot"),
         make_inputs=_ids(5, (3, 1)), id="one_hot", grad=False, input_dtype="int32"),
    Case("CategoryEncoding", dict(num_tokens=5, output_mode="count"),
         make_inputs=_ids(5, (2, 4)), id="count", grad=False, input_dtype="int32"),
]
