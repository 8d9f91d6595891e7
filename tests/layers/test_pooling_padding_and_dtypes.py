"""Pooling details not covered by the conformance registry."""

import numpy as np
import pytest

from kerax import layers


def test_average_pooling_same_counts_only_real_elements():
    x = np.ones((1, 5, 5, 2), "float32")
    y = layers.AveragePooling2D(3, strides=2, padding="same")(x)
    np.testing.assert_allclose(np.asarray(y), np.ones((1, 3, 3, 2)))


def test_average_pooling_same_matches_numpy_reference():
    x = np.arange(5.0, dtype="float32").reshape(1, 5, 1)
    y = layers.AveragePooling1D(2, strides=2, padding="same")(x)
    np.testing.assert_allclose(np.asarray(y)[0, :, 0], [0.5, 2.5, 4.0])


def test_max_pooling_keeps_integer_dtype():
    x = np.array([[[1], [-5], [3], [2]]], "int32")
    y = layers.MaxPooling1D(2)(x)
    assert y.dtype == np.int32 and np.asarray(y).ravel().tolist() == [1, 3]


def test_global_average_pooling_mask_numpy_reference():
    x = np.arange(12.0, dtype="float32").reshape(2, 3, 2)
    mask = np.array([[True, False, True], [False, True, False]])
    y = layers.GlobalAveragePooling1D()(x, mask=mask)
    np.testing.assert_allclose(np.asarray(y), [[2.0, 3.0], [8.0, 9.0]])


@pytest.mark.parametrize("make, match", [
    (lambda: layers.MaxPooling2D(padding="full"),
     r"`padding` argument must be one of \('valid', 'same'\)\. Received: padding='full'"),
    (lambda: layers.AveragePooling2D((2, 2, 2)),
     r"`pool_size` argument must be an int or a tuple of 2 integers > 0"),
    (lambda: layers.MaxPooling1D(2, strides=0), r"Received: strides=0"),
])
def test_argument_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make()
