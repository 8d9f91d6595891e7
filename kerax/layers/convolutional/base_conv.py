"""`BaseConv`: the N-D convolution behind Conv1D/2D/3D, and helpers its siblings share."""

import jax
import jax.numpy as jnp

from kerax import activations, constraints, initializers, regularizers
from kerax.backend import config as _config
from kerax.backend import host_prng
from kerax.layers.convolutional.argument_validation import (
    dimension_numbers,
    standardize_padding,
    standardize_tuple,
)
from kerax.layers.core import lora
from kerax.layers.input_spec import InputSpec
from kerax.layers.layer import Layer, shapes_of
from kerax.serialization import serialization_lib


def channel_axis(data_format):
    return -1 if data_format == "channels_last" else 1


def add_bias(y, bias, data_format):
    """Adds a per-channel bias to `y` in either layout."""
    if data_format == "channels_last":
        return y + bias
    return y + bias.reshape((1, -1) + (1,) * (y.ndim - 2))


class ConvArgs(Layer):
    """Arguments and checks shared by every convolution layer (not public)."""

    # Keras rejects strides > 1 with dilation > 1 in Conv and ConvTranspose layers only.
    _allow_strides_with_dilation = False

    def __init__(self, rank, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, activation=None, use_bias=True, bias_initializer="zeros",
                 bias_regularizer=None, activity_regularizer=None, bias_constraint=None,
                 allow_causal=False, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.rank = rank
        self.kernel_size = standardize_tuple(kernel_size, rank, "kernel_size")
        self.strides = standardize_tuple(strides, rank, "strides")
        self.dilation_rate = standardize_tuple(dilation_rate, rank, "dilation_rate")
        self.padding = standardize_padding(padding, allow_causal=allow_causal)
        self.data_format = _config.standardize_data_format(data_format)
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.bias_initializer = initializers.get(bias_initializer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_spec = InputSpec(ndim=rank + 2)
        if (not self._allow_strides_with_dilation and max(self.strides) > 1
                and max(self.dilation_rate) > 1):
            raise ValueError(
                f"{type(self).__name__}: `strides > 1` cannot be combined with "
                f"`dilation_rate > 1`. Received: strides={self.strides}, "
                f"dilation_rate={self.dilation_rate}. Set one of them to 1."
            )

    def _check_positive(self, name, value):
        if value is not None and (not isinstance(value, int) or value <= 0):
            raise ValueError(
                f"{type(self).__name__}: `{name}` must be a positive integer. "
                f"Received: {name}={value!r}"
            )

    def _input_channels(self, input_shape):
        channels = input_shape[channel_axis(self.data_format)]
        self.input_spec = InputSpec(ndim=self.rank + 2,
                                    axes={channel_axis(self.data_format): channels})
        return channels

    def _conv(self, x, kernel, strides, padding, groups=1):
        return jax.lax.conv_general_dilated(
            x, kernel, window_strides=strides, padding=padding.upper(),
            rhs_dilation=self.dilation_rate,
            dimension_numbers=dimension_numbers(self.rank, self.data_format),
            feature_group_count=groups)

    def _finish(self, y, params):
        if self.use_bias:
            y = add_bias(y, params["bias"], self.data_format)
        return self.activation(y)

    @property
    def kernel(self):
        return self._built_view("params", "kernel")

    @property
    def bias(self):
        return self._built_view("params", "bias") if self.use_bias else None

    def param_rules(self):
        """Each param's `(regularizer, constraint)`, from the constructor arguments."""
        return {"bias": (self.bias_regularizer, self.bias_constraint)}

    def get_config(self):
        ser = serialization_lib.serialize_keras_object
        return {
            **super().get_config(),
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "bias_initializer": ser(self.bias_initializer),
            "bias_regularizer": ser(self.bias_regularizer),
            "activity_regularizer": ser(self.activity_regularizer),
            "bias_constraint": ser(self.bias_constraint),
        }


class BaseConv(lora.LoraMixin, ConvArgs):
    """N-D convolution: `activation(conv(inputs, kernel) + bias)`.

    The kernel has Keras' layout `kernel_size + (input_channels // groups, filters)`, so
    `set_weights(keras_layer.get_weights())` works.

    Args:
        rank: number of spatial axes (1, 2 or 3).
        filters: number of output channels.
        kernel_size: int or tuple of `rank` ints.
        strides: int or tuple of `rank` ints (default 1).
        padding: `"valid"`, `"same"`, or (1-D only) `"causal"`.
        data_format: `"channels_last"` (default) or `"channels_first"`.
        dilation_rate: int or tuple of `rank` ints (default 1).
        groups: number of channel groups (input channels and `filters` divisible by it).
        activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
        bias_regularizer, activity_regularizer, kernel_constraint, bias_constraint: as in
            `Dense`.
        lora_rank, lora_alpha: LoRA, as in `EinsumDense` (`lora_alpha` is kept):
            `lora_kernel_a` has the kernel's shape with the last axis `lora_rank`,
            `lora_kernel_b` is `(lora_rank, filters)`.
    """

    _lora_target = lora.LoraTarget("kernel", "lora_kernel_a", "lora_kernel_b",
                                   "kernel_constraint", "kernel_regularizer")

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid",
                 data_format=None, dilation_rate=1, groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, lora_rank=None, lora_alpha=None,
                 **kwargs):
        super().__init__(rank, kernel_size, strides, padding, data_format, dilation_rate,
                         activation, use_bias, bias_initializer, bias_regularizer,
                         activity_regularizer, bias_constraint, allow_causal=rank == 1,
                         **kwargs)
        self._check_positive("filters", filters)
        self._check_positive("groups", groups)
        if filters % groups:
            raise ValueError(
                f"{type(self).__name__}: `filters` must be divisible by `groups`. "
                f"Received: filters={filters}, groups={groups}."
            )
        self.filters, self.groups = filters, groups
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self._lora_init(lora_rank, lora_alpha)

    def build_variables(self, key, inputs):
        input_shape = shapes_of(inputs)
        channels = self._input_channels(input_shape)
        if channels % self.groups:
            raise ValueError(
                f"{type(self).__name__} '{self.name}': the number of input channels must be "
                f"divisible by groups={self.groups}, received input of shape "
                f"{tuple(input_shape)} with {channels} channels."
            )
        k_kernel, k_bias = host_prng.split(key)
        shape = self.kernel_size + (channels // self.groups, self.filters)
        params = {"kernel": self.kernel_initializer(shape, self.dtype, key=k_kernel)}
        if self.use_bias:
            params["bias"] = self.bias_initializer((self.filters,), self.dtype, key=k_bias)
        params.update(self._lora_factors(key, shape))
        return params, {}

    def forward(self, params, state, inputs, training=False, rng=None, **kwargs):
        params = self._lora_params(params)
        kernel = params["kernel"]
        x = jnp.asarray(inputs, kernel.dtype)
        padding = self.padding
        if padding == "causal":
            left = self.dilation_rate[0] * (self.kernel_size[0] - 1)
            pads = [(0, 0)] * x.ndim
            pads[1 if self.data_format == "channels_last" else 2] = (left, 0)
            x, padding = jnp.pad(x, pads), "valid"
        y = self._conv(x, kernel, self.strides, padding, groups=self.groups)
        return self._finish(y, params), state

    @property
    def kernel(self):
        """The kernel's variable; under LoRA, the merged kernel (an array), as in Keras."""
        return self._lora_merged_value()

    def param_rules(self):
        """Each param's `(regularizer, constraint)`, from the constructor arguments."""
        return {"kernel": (self.kernel_regularizer, self.kernel_constraint),
                **super().param_rules(), **self._lora_rules()}

    def get_config(self):
        ser = serialization_lib.serialize_keras_object
        config = {
            **super().get_config(),
            "filters": self.filters,
            "groups": self.groups,
            "kernel_initializer": ser(self.kernel_initializer),
            "kernel_regularizer": ser(self.kernel_regularizer),
            "kernel_constraint": ser(self.kernel_constraint),
        }
        if self.lora_rank:
            config["lora_rank"], config["lora_alpha"] = self.lora_rank, self.lora_alpha
        return config
