"""DepthwiseConv1D and DepthwiseConv2D: one filter bank per input channel."""

import jax.numpy as jnp

from kerax import constraints, initializers, regularizers
from kerax.backend import host_prng
from kerax.layers.convolutional.base_conv import ConvArgs
from kerax.layers.layer import shapes_of
from kerax.serialization import serialization_lib


def depthwise_kernel_as_grouped(kernel):
    """Keras' `(spatial..., in, multiplier)` kernel as a grouped-conv `(spatial..., 1, out)`."""
    return kernel.reshape(kernel.shape[:-2] + (1, kernel.shape[-2] * kernel.shape[-1]))


class BaseDepthwiseConv(ConvArgs):
    """Depthwise convolution: each input channel is convolved with `depth_multiplier` filters.

    The kernel has Keras' layout `kernel_size + (input_channels, depth_multiplier)` and the
    output has `input_channels * depth_multiplier` channels.

    Args:
        rank: number of spatial axes (1 or 2).
        depth_multiplier: output channels per input channel.
        kernel_size, strides, padding, data_format, dilation_rate: as in `Conv2D`.
        depthwise_initializer, depthwise_regularizer, depthwise_constraint: for the kernel.
        activation, use_bias, bias_initializer, bias_regularizer, activity_regularizer,
        bias_constraint: as in `Dense`.
    """

    _allow_strides_with_dilation = True

    def __init__(self, rank, depth_multiplier, kernel_size, strides=1, padding="valid",
                 data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(rank, kernel_size, strides, padding, data_format, dilation_rate,
                         activation, use_bias, bias_initializer, bias_regularizer,
                         activity_regularizer, bias_constraint, **kwargs)
        self._check_positive("depth_multiplier", depth_multiplier)
        self.depth_multiplier = depth_multiplier
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)

    def build_variables(self, key, inputs):
        input_shape = shapes_of(inputs)
        channels = self._input_channels(input_shape)
        k_kernel, k_bias = host_prng.split(key)
        shape = self.kernel_size + (channels, self.depth_multiplier)
        params = {"kernel": self.depthwise_initializer(shape, self.dtype, key=k_kernel)}
        if self.use_bias:
            params["bias"] = self.bias_initializer(
                (channels * self.depth_multiplier,), self.dtype, key=k_bias)
        return params, {}

    def forward(self, params, state, inputs, training=False, rng=None, **kwargs):
        kernel = params["kernel"]
        x = jnp.asarray(inputs, kernel.dtype)
        y = self._conv(x, depthwise_kernel_as_grouped(kernel), self.strides, self.padding,
                       groups=kernel.shape[-2])
        return self._finish(y, params), state

    def param_rules(self):
        """Each param's `(regularizer, constraint)`, from the constructor arguments."""
        return {"kernel": (self.depthwise_regularizer, self.depthwise_constraint),
                **super().param_rules()}

    def get_config(self):
        ser = serialization_lib.serialize_keras_object
        return {
            **super().get_config(),
            "depth_multiplier": self.depth_multiplier,
            "depthwise_initializer": ser(self.depthwise_initializer),
            "depthwise_regularizer": ser(self.depthwise_regularizer),
            "depthwise_constraint": ser(self.depthwise_constraint),
        }


class DepthwiseConv1D(BaseDepthwiseConv):
    """1-D depthwise convolution.

    Arguments are those of `BaseDepthwiseConv` without `rank`.

    Example:
    >>> import numpy as np
    >>> DepthwiseConv1D(3, depth_multiplier=2)(np.ones((2, 8, 4))).shape
    (2, 6, 8)
    """

    def __init__(self, kernel_size, strides=1, padding="valid", depth_multiplier=1,
                 data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(1, depth_multiplier, kernel_size, strides, padding, data_format,
                         dilation_rate, activation, use_bias, depthwise_initializer,
                         bias_initializer, depthwise_regularizer, bias_regularizer,
                         activity_regularizer, depthwise_constraint, bias_constraint, **kwargs)


class DepthwiseConv2D(BaseDepthwiseConv):
    """2-D depthwise convolution.

    Arguments are those of `BaseDepthwiseConv` without `rank`.

    Example:
    >>> import numpy as np
    >>> DepthwiseConv2D(3, padding="same")(np.ones((2, 6, 6, 3))).shape
    (2, 6, 6, 3)
    """

    def __init__(self, kernel_size, strides=(1, 1), padding="valid", depth_multiplier=1,
                 data_format=None, dilation_rate=(1, 1), activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(2, depth_multiplier, kernel_size, strides, padding, data_format,
                         dilation_rate, activation, use_bias, depthwise_initializer,
                         bias_initializer, depthwise_regularizer, bias_regularizer,
                         activity_regularizer, depthwise_constraint, bias_constraint, **kwargs)
