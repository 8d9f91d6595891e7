"""SeparableConv1D and SeparableConv2D: a depthwise convolution, then a 1x1 convolution."""

import jax.numpy as jnp

from kerax import constraints, initializers, regularizers
from kerax.backend import host_prng
from kerax.layers.convolutional.base_conv import ConvArgs
from kerax.layers.convolutional.depthwise_conv import depthwise_kernel_as_grouped
from kerax.layers.layer import shapes_of
from kerax.serialization import serialization_lib


class BaseSeparableConv(ConvArgs):
    """Depthwise-separable convolution: per-channel filters, then a pointwise mix.

    Weights, in Keras' order and layout: `depthwise_kernel` of shape
    `kernel_size + (input_channels, depth_multiplier)`, `pointwise_kernel` of shape
    `(1,) * rank + (input_channels * depth_multiplier, filters)`, then `bias`.

    Args:
        rank: number of spatial axes (1 or 2).
        depth_multiplier: depthwise output channels per input channel.
        filters: number of output channels.
        kernel_size, strides, padding, data_format, dilation_rate: as in `Conv2D`.
        depthwise_initializer, pointwise_initializer, depthwise_regularizer,
        pointwise_regularizer, depthwise_constraint, pointwise_constraint: for the kernels.
        activation, use_bias, bias_initializer, bias_regularizer, activity_regularizer,
        bias_constraint: as in `Dense`.
    """

    _allow_strides_with_dilation = True

    def __init__(self, rank, depth_multiplier, filters, kernel_size, strides=1,
                 padding="valid", data_format=None, dilation_rate=1, activation=None,
                 use_bias=True, depthwise_initializer="glorot_uniform",
                 pointwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, pointwise_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, depthwise_constraint=None,
                 pointwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(rank, kernel_size, strides, padding, data_format, dilation_rate,
                         activation, use_bias, bias_initializer, bias_regularizer,
                         activity_regularizer, bias_constraint, **kwargs)
        self._check_positive("depth_multiplier", depth_multiplier)
        self._check_positive("filters", filters)
        self.depth_multiplier, self.filters = depth_multiplier, filters
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.pointwise_regularizer = regularizers.get(pointwise_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)
        self.pointwise_constraint = constraints.get(pointwise_constraint)

    def build_variables(self, key, inputs):
        input_shape = shapes_of(inputs)
        channels = self._input_channels(input_shape)
        k_depth, k_point, k_bias = host_prng.split(key, 3)
        depth_shape = self.kernel_size + (channels, self.depth_multiplier)
        point_shape = (1,) * self.rank + (channels * self.depth_multiplier, self.filters)
        params = {
            "depthwise_kernel": self.depthwise_initializer(depth_shape, self.dtype, key=k_depth),
            "pointwise_kernel": self.pointwise_initializer(point_shape, self.dtype, key=k_point),
        }
        if self.use_bias:
            params["bias"] = self.bias_initializer((self.filters,), self.dtype, key=k_bias)
        return params, {}

    def forward(self, params, state, inputs, training=False, rng=None, **kwargs):
        depthwise = params["depthwise_kernel"]
        x = jnp.asarray(inputs, depthwise.dtype)
        y = self._conv(x, depthwise_kernel_as_grouped(depthwise), self.strides, self.padding,
                       groups=depthwise.shape[-2])
        y = self._conv(y, params["pointwise_kernel"], (1,) * self.rank, "valid")
        return self._finish(y, params), state

    @property
    def depthwise_kernel(self):
        return self._built_view("params", "depthwise_kernel")

    @property
    def pointwise_kernel(self):
        return self._built_view("params", "pointwise_kernel")

    def param_rules(self):
        """Each param's `(regularizer, constraint)`, from the constructor arguments."""
        return {"depthwise_kernel": (self.depthwise_regularizer, self.depthwise_constraint),
                "pointwise_kernel": (self.pointwise_regularizer, self.pointwise_constraint),
                **super().param_rules()}

    def get_config(self):
        ser = serialization_lib.serialize_keras_object
        return {
            **super().get_config(),
            "depth_multiplier": self.depth_multiplier,
            "filters": self.filters,
            "depthwise_initializer": ser(self.depthwise_initializer),
            "pointwise_initializer": ser(self.pointwise_initializer),
            "depthwise_regularizer": ser(self.depthwise_regularizer),
            "pointwise_regularizer": ser(self.pointwise_regularizer),
            "depthwise_constraint": ser(self.depthwise_constraint),
            "pointwise_constraint": ser(self.pointwise_constraint),
        }


class SeparableConv1D(BaseSeparableConv):
    """1-D depthwise-separable convolution.

    Arguments are those of `BaseSeparableConv` without `rank`.

    Example:
    >>> import numpy as np
    >>> SeparableConv1D(4, 3, padding="same")(np.ones((2, 8, 3))).shape
    (2, 8, 4)
    """

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, depth_multiplier=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None,
                 pointwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, pointwise_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(1, depth_multiplier, filters, kernel_size, strides, padding,
                         data_format, dilation_rate, activation, use_bias,
                         depthwise_initializer, pointwise_initializer, bias_initializer,
                         depthwise_regularizer, pointwise_regularizer, bias_regularizer,
                         activity_regularizer, depthwise_constraint, pointwise_constraint,
                         bias_constraint, **kwargs)


class SeparableConv2D(BaseSeparableConv):
    """2-D depthwise-separable convolution.

    Arguments are those of `BaseSeparableConv` without `rank`.

    Example:
    >>> import numpy as np
    >>> SeparableConv2D(8, 3, depth_multiplier=2)(np.ones((2, 6, 6, 3))).shape
    (2, 4, 4, 8)
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid",
                 data_format=None, dilation_rate=(1, 1), depth_multiplier=1, activation=None,
                 use_bias=True, depthwise_initializer="glorot_uniform",
                 pointwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, pointwise_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, depthwise_constraint=None,
                 pointwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(2, depth_multiplier, filters, kernel_size, strides, padding,
                         data_format, dilation_rate, activation, use_bias,
                         depthwise_initializer, pointwise_initializer, bias_initializer,
                         depthwise_regularizer, pointwise_regularizer, bias_regularizer,
                         activity_regularizer, depthwise_constraint, pointwise_constraint,
                         bias_constraint, **kwargs)
