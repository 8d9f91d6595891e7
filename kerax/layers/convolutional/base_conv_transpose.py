"""`BaseConvTranspose`: the N-D transposed convolution behind ConvNDTranspose."""

import jax
import jax.numpy as jnp

from kerax import constraints, initializers, regularizers
from kerax.backend import host_prng
from kerax.layers.convolutional.argument_validation import (
    dimension_numbers,
    standardize_tuple,
)
from kerax.layers.convolutional.base_conv import ConvArgs
from kerax.layers.layer import shapes_of
from kerax.serialization import serialization_lib


def transpose_padding(kernel_size, stride, dilation, padding, output_padding):
    """The `(low, high)` padding `lax.conv_transpose` needs for Keras' output size.

    "valid" gives `(n - 1) * stride + max(k, stride)` (k the dilated kernel size), "same"
    gives `n * stride`; an explicit `output_padding` adds that many rows at the end.

    Example:
    >>> transpose_padding(3, 2, 1, "same", None)
    (2, 1)
    """
    k = (kernel_size - 1) * dilation + 1
    if padding == "valid":
        extra = max(k, stride) - k if output_padding is None else output_padding
        return k - 1, k - 1 + extra
    if output_padding is None:
        total = stride + k - 2
    else:
        total = k + k % 2 - 2 + output_padding
    low = min((total + 1) // 2, k - 1)
    return low, total - low


class BaseConvTranspose(ConvArgs):
    """N-D transposed convolution (the gradient of a convolution with respect to its input).

    The kernel has Keras' layout `kernel_size + (filters, input_channels)`.

    Args:
        rank: number of spatial axes (1, 2 or 3).
        filters: number of output channels.
        kernel_size, strides, padding, data_format, dilation_rate: as in `Conv2D`
            ("causal" padding is not accepted).
        output_padding: int or tuple of ints (each smaller than the stride), the extra
            rows added at the end of each spatial axis; None lets Keras' rule choose.
        activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
        bias_regularizer, activity_regularizer, kernel_constraint, bias_constraint: as in
            `Dense`.
    """

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid",
                 output_padding=None, data_format=None, dilation_rate=1, activation=None,
                 use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(rank, kernel_size, strides, padding, data_format, dilation_rate,
                         activation, use_bias, bias_initializer, bias_regularizer,
                         activity_regularizer, bias_constraint, **kwargs)
        self._check_positive("filters", filters)
        self.filters = filters
        self.output_padding = None
        if output_padding is not None:
            self.output_padding = standardize_tuple(output_padding, rank, "output_padding",
                                                    allow_zero=True)
            if any(op >= s for op, s in zip(self.output_padding, self.strides)):
                raise ValueError(
                    f"{type(self).__name__}: each `output_padding` value must be smaller "
                    f"than the matching stride. Received: output_padding="
                    f"{self.output_padding}, strides={self.strides}."
                )
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)

    def build_variables(self, key, inputs):
        input_shape = shapes_of(inputs)
        channels = self._input_channels(input_shape)
        k_kernel, k_bias = host_prng.split(key)
        shape = self.kernel_size + (self.filters, channels)
        params = {"kernel": self.kernel_initializer(shape, self.dtype, key=k_kernel)}
        if self.use_bias:
            params["bias"] = self.bias_initializer((self.filters,), self.dtype, key=k_bias)
        return params, {}

    def forward(self, params, state, inputs, training=False, rng=None, **kwargs):
        kernel = params["kernel"]
        x = jnp.asarray(inputs, kernel.dtype)
        out_pad = self.output_padding or (None,) * self.rank
        pads = [transpose_padding(k, s, d, self.padding, op) for k, s, d, op in
                zip(self.kernel_size, self.strides, self.dilation_rate, out_pad)]
        y = jax.lax.conv_transpose(
            x, kernel, self.strides, pads, rhs_dilation=self.dilation_rate,
            dimension_numbers=dimension_numbers(self.rank, self.data_format),
            transpose_kernel=True)
        return self._finish(y, params), state

    def param_rules(self):
        """Each param's `(regularizer, constraint)`, from the constructor arguments."""
        return {"kernel": (self.kernel_regularizer, self.kernel_constraint),
                **super().param_rules()}

    def get_config(self):
        ser = serialization_lib.serialize_keras_object
        return {
            **super().get_config(),
            "filters": self.filters,
            "output_padding": self.output_padding,
            "kernel_initializer": ser(self.kernel_initializer),
            "kernel_regularizer": ser(self.kernel_regularizer),
            "kernel_constraint": ser(self.kernel_constraint),
        }
