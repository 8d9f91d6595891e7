"""Argument errors and details of the convolution layers not covered by the registry."""

import jax
import numpy as np
import pytest

from kerax import layers
from kerax.layers.convolutional import argument_validation as av


@pytest.mark.parametrize("make, match", [
    (lambda: layers.Conv2D(4, (3, 3, 3)), r"`kernel_size` argument must be an int or a tuple "
                                          r"of 2 integers > 0\. Received: kernel_size=\(3, 3, 3\)"),
    (lambda: layers.Conv2D(4, 0), r"kernel_size=0"),
    (lambda: layers.Conv1D(4, "a"), r"kernel_size='a'"),
    (lambda: layers.Conv2D(4, 3, padding="causal"), r"`padding` argument must be one of "
                                                    r"\('valid', 'same'\)"),
    (lambda: layers.Conv1D(4, 3, padding="full"), r"one of \('valid', 'same', 'causal'\)"),
    (lambda: layers.Conv2D(4, 3, strides=2, dilation_rate=2), r"Conv2D: `strides > 1` cannot "
                                                              r"be combined with `dilation_rate"),
    (lambda: layers.Conv2D(0, 3), r"Conv2D: `filters` must be a positive integer\. "
                                  r"Received: filters=0"),
    (lambda: layers.Conv2D(4, 3, groups=3), r"`filters` must be divisible by `groups`"),
    (lambda: layers.DepthwiseConv2D(3, depth_multiplier=0), r"`depth_multiplier` must be"),
    (lambda: layers.Conv2DTranspose(4, 3, strides=2, output_padding=2),
     r"Conv2DTranspose: each `output_padding` value must be smaller than the matching "
     r"stride\. Received: output_padding=\(2, 2\), strides=\(2, 2\)"),
    (lambda: av.dimension_numbers(4, "channels_last"), r"1 to 3 spatial axes\. Received: rank=4"),
])
def test_argument_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_channels_not_divisible_by_groups():
    layer = layers.Conv2D(4, 3, groups=2, name="grouped")
    with pytest.raises(ValueError, match=r"Conv2D 'grouped': the number of input channels must "
                                         r"be divisible by groups=2, received input of shape "
                                         r"\(1, 5, 5, 3\) with 3 channels"):
        layer.init(jax.random.PRNGKey(0), np.ones((1, 5, 5, 3), "float32"))


def test_wrong_channel_count_names_the_axis():
    layer = layers.Conv2D(2, 3, data_format="channels_first", name="cf")
    variables = layer.init(jax.random.PRNGKey(0), np.ones((1, 3, 5, 5), "float32"))
    with pytest.raises(ValueError, match=r"Conv2D 'cf': expected rank 4 and input axis 1 to be "
                                         r"3 \(set at init\), received input of shape "
                                         r"\(1, 4, 5, 5\)"):
        layer.apply(variables, np.ones((1, 4, 5, 5), "float32"))


@pytest.mark.parametrize("make", [lambda: layers.Conv2DTranspose(4, 3, lora_rank=2),
                                  lambda: layers.DepthwiseConv2D(3, lora_rank=2),
                                  lambda: layers.SeparableConv2D(4, 3, lora_rank=2)])
def test_lora_is_refused_where_keras_has_none(make):
    # Keras 3.15 has LoRA in Conv1D/2D/3D only (see tests/layers/test_lora.py).
    with pytest.raises(TypeError, match=r"unrecognized keyword argument\(s\) \['lora_rank'\]"):
        make()


def test_separable_weights_in_keras_order():
    layer = layers.SeparableConv2D(5, 3, depth_multiplier=2)
    layer.build((None, 7, 7, 4))
    assert [(w.name, w.shape) for w in layer.weights] == [
        ("depthwise_kernel", (3, 3, 4, 2)), ("pointwise_kernel", (1, 1, 8, 5)), ("bias", (5,))]


@pytest.mark.parametrize("n, k, s, padding, op", [
    (5, 3, 2, "valid", None), (5, 3, 2, "same", None), (5, 4, 3, "same", 2),
    (4, 2, 3, "valid", None), (4, 5, 1, "same", 0), (6, 1, 2, "valid", 1),
])
def test_transpose_output_length_matches_keras(keras, n, k, s, padding, op):
    kl = keras.layers.Conv1DTranspose(3, k, strides=s, padding=padding, output_padding=op)
    ours = layers.Conv1DTranspose(3, k, strides=s, padding=padding, output_padding=op)
    assert ours.compute_output_shape((1, n, 2)) == tuple(kl.compute_output_shape((1, n, 2)))


def test_regularizers_and_constraints_round_trip(keras):
    kwargs = dict(kernel_regularizer="l2", bias_constraint="non_neg",
                  activity_regularizer="l1")
    config = layers.Conv2D(4, 3, **kwargs).get_config()
    kconfig = keras.layers.Conv2D(4, 3, **kwargs).get_config()
    for key in ("kernel_regularizer", "bias_constraint", "activity_regularizer"):
        assert (config[key]["class_name"], config[key]["config"]) == \
            (kconfig[key]["class_name"], kconfig[key]["config"])
    assert layers.Conv2D.from_config(config).get_config() == config
