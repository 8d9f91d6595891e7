"""Argument and mask errors of the activation layers, and LeakyReLU's deprecated alias."""

import jax
import numpy as np
import pytest

from kerax import layers
from kerax.errors import LayerShapeError


@pytest.mark.parametrize("make, match", [
    (lambda: layers.ReLU(max_value=-1.0), r"ReLU: `max_value` must be a number >= 0\. "
                                          r"Received: max_value=-1\.0"),
    (lambda: layers.ReLU(negative_slope=None), r"Received: negative_slope=None"),
    (lambda: layers.ReLU(threshold=-0.5), r"Received: threshold=-0\.5"),
    (lambda: layers.LeakyReLU(-0.1), r"LeakyReLU: `negative_slope` must be a number >= 0"),
])
def test_argument_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_leaky_relu_accepts_deprecated_alpha():
    with pytest.warns(UserWarning, match="`alpha` is deprecated; use `negative_slope`"):
        layer = layers.LeakyReLU(alpha=0.5)
    assert layer.negative_slope == 0.5


def test_prelu_shared_axes_out_of_range():
    layer = layers.PReLU(shared_axes=[3], name="p")
    with pytest.raises(ValueError, match=r"PReLU 'p': `shared_axes` must name non-batch axes "
                                         r"1\.\.2, received shared_axes=\[3\] for input of "
                                         r"shape \(2, 4, 3\)"):
        layer.init(jax.random.PRNGKey(0), np.ones((2, 4, 3), "float32"))


def test_softmax_mask_must_broadcast():
    layer = layers.Softmax(name="sm")
    with pytest.raises(LayerShapeError, match=r"Softmax 'sm': expected a mask broadcastable to "
                                              r"the input, received input of shape \(2, 5\) "
                                              r"and mask of shape \(2, 4\)"):
        layer(np.zeros((2, 5), "float32"), mask=np.ones((2, 4), bool))


def test_softmax_fully_masked_row_is_zero():
    y = layers.Softmax()(np.zeros((1, 3), "float32"), mask=np.zeros((1, 3), bool))
    np.testing.assert_array_equal(np.asarray(y), np.zeros((1, 3)))
