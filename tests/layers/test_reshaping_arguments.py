"""Argument and shape errors of Permute, RepeatVector, Cropping, ZeroPadding, UpSampling."""

import jax
import numpy as np
import pytest

from kerax import layers
from kerax.errors import LayerShapeError, UnknownIdentifierError


@pytest.mark.parametrize("make, match", [
    (lambda: layers.Permute((1, 3)), r"Permute: `dims` must be a permutation of 1\.\.n .*"
                                     r"Received: dims=\(1, 3\)"),
    (lambda: layers.RepeatVector(0), r"RepeatVector: `n` must be a positive integer\. "
                                     r"Received: n=0"),
    (lambda: layers.Cropping2D((1, 2, 3)), r"`cropping` must be an int, a tuple of 2 ints, or "
                                           r"a tuple of 2 \(before, after\) pairs\. "
                                           r"Received: cropping=\(1, 2, 3\)"),
    (lambda: layers.ZeroPadding2D(((1, 2), (1, 2, 3))),
     r"`2nd entry of padding` argument must be an int or a tuple of 2 integers >= 0"),
    (lambda: layers.ZeroPadding1D(-1), r"Received: 1st entry of padding=-1"),
    (lambda: layers.UpSampling1D(2.5), r"UpSampling1D: `size` must be a positive integer\. "
                                       r"Received: size=2\.5"),
    (lambda: layers.UpSampling2D(size=0), r"`size` argument must be an int or a tuple of 2 "
                                          r"integers > 0"),
])
def test_argument_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_unknown_interpolation_lists_close_matches():
    with pytest.raises(UnknownIdentifierError, match=r"Unknown interpolation identifier: "
                                                     r"'bilinar'\. Did you mean: 'bilinear'"):
        layers.UpSampling2D(interpolation="bilinar")


def test_cropping_more_than_the_input_names_layer_and_shape():
    layer = layers.Cropping1D((2, 3), name="crop")
    variables = layer.init(jax.random.PRNGKey(0), np.ones((1, 8, 2), "float32"))
    with pytest.raises(LayerShapeError, match=r"Cropping1D 'crop': cropping \(2, 3\) must leave "
                                              r"at least one row on every spatial axis, "
                                              r"received input of shape \(1, 5, 2\)"):
        layer.apply(variables, np.ones((1, 5, 2), "float32"))


def test_configs_keep_keras_formats():
    assert layers.Cropping1D(2).get_config()["cropping"] == (2, 2)
    assert layers.ZeroPadding2D(1).get_config()["padding"] == ((1, 1), (1, 1))
    assert layers.UpSampling1D(3).get_config()["size"] == 3
    assert "data_format" not in layers.Cropping1D().get_config()
