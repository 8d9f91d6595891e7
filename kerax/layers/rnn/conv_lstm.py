"""`ConvLSTM1D/2D/3D`: an LSTM whose input and recurrent transforms are convolutions.

The cell is `ConvLSTMCell` (not public, as in Keras); the time loop is `RNN`'s
`lax.scan`. Weights follow Keras' layout: `kernel` `kernel_size + (channels, 4*filters)`,
`recurrent_kernel` `kernel_size + (filters, 4*filters)`, `bias` `(4*filters,)`, gates
in the order input, forget, cell, output.
"""

import math

import jax
import jax.numpy as jnp

from kerax import activations, constraints, initializers, regularizers
from kerax.backend import config as _config
from kerax.backend import host_prng
from kerax.layers import seed_state
from kerax.layers.convolutional.argument_validation import (
    dimension_numbers,
    standardize_padding,
    standardize_tuple,
)
from kerax.layers.input_spec import InputSpec
from kerax.layers.layer import Layer, shapes_of
from kerax.layers.rnn.cell_base import dropout_masks, per_gate
from kerax.layers.rnn.rnn import _LAYER_ARGS, _RNN_ARGS, RNN
from kerax.random.seed_generator import SeedGenerator
from kerax.serialization import serialization_lib

_REGS = ("kernel_regularizer", "recurrent_regularizer", "bias_regularizer")
_CONS = ("kernel_constraint", "recurrent_constraint", "bias_constraint")
_INITS = ("kernel_initializer", "recurrent_initializer", "bias_initializer")


def conv_output_length(length, kernel, stride, dilation, padding):
    """The output length of a convolution along one spatial axis."""
    if padding == "same":
        return math.ceil(length / stride)
    return math.ceil((length - (kernel - 1) * dilation) / stride)


class ConvLSTMCell(Layer):
    """One step of a convolutional LSTM (not public; use `ConvLSTM1D/2D/3D`).

    Call arguments: `inputs` `(batch, *spatial, channels)` (channels last), `states`
    `[h, c]`. Returns `(h, [h, c])`.
    """

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid",
                 data_format=None, dilation_rate=1, activation="tanh",
                 recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", unit_forget_bias=True, kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, **kwargs):
        if not isinstance(filters, int) or isinstance(filters, bool) or filters <= 0:
            raise ValueError(
                f"ConvLSTM{rank}D: `filters` must be a positive integer. "
                f"Received: filters={filters!r}"
            )
        super().__init__(**kwargs)
        self.rank, self.filters = rank, filters
        self.kernel_size = standardize_tuple(kernel_size, rank, "kernel_size")
        self.strides = standardize_tuple(strides, rank, "strides")
        self.dilation_rate = standardize_tuple(dilation_rate, rank, "dilation_rate")
        self.padding = standardize_padding(padding)
        self.data_format = _config.standardize_data_format(data_format)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(
                f"ConvLSTM{rank}D: `strides > 1` cannot be combined with "
                f"`dilation_rate > 1`. Received: strides={self.strides}, "
                f"dilation_rate={self.dilation_rate}. Set one of them to 1."
            )
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias, self.unit_forget_bias = use_bias, unit_forget_bias
        for name, value in zip(_INITS, (kernel_initializer, recurrent_initializer,
                                        bias_initializer)):
            setattr(self, name, initializers.get(value))
        for name, value in zip(_REGS, (kernel_regularizer, recurrent_regularizer,
                                       bias_regularizer)):
            setattr(self, name, regularizers.get(value))
        for name, value in zip(_CONS, (kernel_constraint, recurrent_constraint,
                                       bias_constraint)):
            setattr(self, name, constraints.get(value))
        self.dropout = min(1.0, max(0.0, dropout))
        self.recurrent_dropout = min(1.0, max(0.0, recurrent_dropout))
        self.seed = seed
        self.seed_generator = SeedGenerator(seed)  # Keras' dropout seed state
        self.state_size = [filters, filters]
        self.input_spec = InputSpec(ndim=rank + 2)

    def _channel_axis(self):
        return -1 if self.data_format == "channels_last" else 1

    def state_shape(self, input_shape):
        """The shape of `h` and `c` for one step's input shape `(batch, ...)`."""
        if self.data_format == "channels_last":
            spatial = tuple(input_shape[1:-1])
        else:
            spatial = tuple(input_shape[2:])
        out = tuple(conv_output_length(n, k, s, d, self.padding) for n, k, s, d in zip(
            spatial, self.kernel_size, self.strides, self.dilation_rate))
        if self.data_format == "channels_last":
            return (input_shape[0],) + out + (self.filters,)
        return (input_shape[0], self.filters) + out

    def build_variables(self, key, inputs, *unused):
        input_shape = shapes_of(inputs)
        channels = input_shape[self._channel_axis()]
        k1, k2, k3 = host_prng.split(key, 3)
        f = self.filters
        params = {
            "kernel": self.kernel_initializer(self.kernel_size + (channels, 4 * f),
                                              self.dtype, key=k1),
            "recurrent_kernel": self.recurrent_initializer(self.kernel_size + (f, 4 * f),
                                                           self.dtype, key=k2),
        }
        if self.use_bias:
            if self.unit_forget_bias:
                params["bias"] = jnp.concatenate([
                    self.bias_initializer((f,), self.dtype, key=k3),
                    jnp.ones((f,), self.dtype),
                    self.bias_initializer((2 * f,), self.dtype, key=k3)])
            else:
                params["bias"] = self.bias_initializer((4 * f,), self.dtype, key=k3)
        self.input_spec = InputSpec(ndim=self.rank + 2,
                                    axes={self._channel_axis(): channels})
        return params, seed_state.initial(self)

    def _conv(self, x, kernel, strides, padding, dilation):
        return jax.lax.conv_general_dilated(
            x, kernel, window_strides=strides, padding=padding.upper(),
            rhs_dilation=dilation,
            dimension_numbers=dimension_numbers(self.rank, self.data_format))

    def _gates(self, xs, kernel, strides, padding, dilation):
        """The four gates' pre-activations, stacked on the channel axis."""
        if xs[0] is xs[1]:  # no per-gate masks: one convolution for all gates
            return self._conv(xs[0], kernel, strides, padding, dilation)
        kernels = jnp.split(kernel, 4, axis=-1)
        return jnp.concatenate([self._conv(x, k, strides, padding, dilation)
                                for x, k in zip(xs, kernels)], axis=self._channel_axis())

    def forward(self, params, state, inputs, states, training=False, rng=None, **kwargs):
        h_prev, c_prev = states[0], states[1]
        dp = rdp = None
        if training:
            dp = dropout_masks(self, rng, inputs, self.dropout, 4, 0)
            rdp = dropout_masks(self, rng, h_prev, self.recurrent_dropout, 4, 1)
        ones = (1,) * self.rank
        z = self._gates(per_gate(inputs, dp, 4), params["kernel"], self.strides,
                        self.padding, self.dilation_rate)
        z = z + self._gates(per_gate(h_prev, rdp, 4), params["recurrent_kernel"], ones,
                            "same", ones)
        if self.use_bias:
            bias = params["bias"]
            z = z + (bias if self.data_format == "channels_last"
                     else bias.reshape((-1,) + ones))
        zi, zf, zc, zo = jnp.split(z, 4, axis=self._channel_axis())
        i, f, o = (self.recurrent_activation(a) for a in (zi, zf, zo))
        c = f * c_prev + i * self.activation(zc)
        h = o * self.activation(c)
        return (h, [h, c]), state

    def param_rules(self):
        """Each param's `(regularizer, constraint)`, from the constructor arguments."""
        return {"kernel": (self.kernel_regularizer, self.kernel_constraint),
                "recurrent_kernel": (self.recurrent_regularizer, self.recurrent_constraint),
                "bias": (self.bias_regularizer, self.bias_constraint)}

    def get_config(self):
        ser = serialization_lib.serialize_keras_object
        config = {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "activation": activations.serialize(self.activation),
            "recurrent_activation": activations.serialize(self.recurrent_activation),
            "use_bias": self.use_bias,
            "unit_forget_bias": self.unit_forget_bias,
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "seed": self.seed,
        }
        for name in _INITS + _REGS + _CONS:
            config[name] = ser(getattr(self, name))
        return config


_CELL_ATTRS = ("filters", "kernel_size", "strides", "padding", "data_format",
               "dilation_rate", "activation", "recurrent_activation", "use_bias",
               "unit_forget_bias", "dropout", "recurrent_dropout", "seed") + _INITS + _REGS + _CONS


class ConvLSTM(RNN):
    """N-D convolutional LSTM over a sequence of images (not public; see ConvLSTM2D)."""

    rank = None

    def __init__(self, filters, kernel_size, **kwargs):
        own = {k: kwargs.pop(k) for k in list(kwargs) if k in _RNN_ARGS + _LAYER_ARGS}
        cell = ConvLSTMCell(self.rank, filters, kernel_size, name="conv_lstm_cell",
                            dtype=own.get("dtype"), **kwargs)
        super().__init__(cell, **own)
        self.input_spec = InputSpec(ndim=self.rank + 3)

    def build_variables(self, key, sequences, *unused):
        sequences_shape = shapes_of(sequences)
        out = super().build_variables(key, sequences)
        # Keras checks each step against the cell's `(None,) + step_shape[1:]`: the
        # sequence length stays free, the image size and channels are fixed.
        self.input_spec = InputSpec(ndim=self.rank + 3,
                                    shape=(None, None) + tuple(sequences_shape[2:]))
        return out

    def get_initial_state(self, sequences_shape):
        """Zero `[h, c]` for sequences of this shape."""
        step = (sequences_shape[0],) + tuple(sequences_shape[2:])
        shape = self.cell.state_shape(step)
        return [jnp.zeros(shape, self.compute_dtype), jnp.zeros(shape, self.compute_dtype)]

    def __getattr__(self, name):
        cell = self.__dict__.get("cell")
        if name in _CELL_ATTRS and cell is not None:
            return getattr(cell, name)
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def get_config(self):
        cell = self.cell.get_config()
        for key in ("name", "trainable", "dtype"):
            cell.pop(key, None)
        return {**self._rnn_config(), **cell,
                "activity_regularizer": serialization_lib.serialize_keras_object(
                    self.activity_regularizer)}

    @classmethod
    def from_config(cls, config):
        return Layer.from_config.__func__(cls, config)


_DOC = """{rank}D convolutional LSTM: an LSTM whose transforms are {rank}D convolutions.

    Args:
        filters: number of output channels (of `h` and `c`).
        kernel_size, strides, padding (`"valid"` or `"same"`), data_format,
            dilation_rate: as in `Conv{rank}D` (`strides > 1` excludes
            `dilation_rate > 1`). The recurrent convolution always uses stride 1 and
            `"same"` padding.
        activation: for the cell and output (default `"tanh"`).
        recurrent_activation: for the gates (default `"sigmoid"`).
        use_bias, kernel_initializer, recurrent_initializer, bias_initializer,
            unit_forget_bias, regularizers, constraints, dropout, recurrent_dropout,
            seed: as in `LSTM`.
        return_sequences, return_state, go_backwards, stateful: as in `RNN`.

    Call with `(batch, time, *spatial, channels)` (channels last) and optionally
    `mask=` `(batch, time)` and `initial_state=[h, c]`.

    Example:
    >>> import jax, jax.numpy as jnp
    >>> layer = ConvLSTM{rank}D(2, 3, padding="same", return_sequences=True)
    >>> x = jnp.ones((1, 3) + (4,) * {rank} + (1,))
    >>> v = layer.init(jax.random.PRNGKey(0), x)
    >>> layer.apply(v, x)[0].shape == (1, 3) + (4,) * {rank} + (2,)
    True
    """


class ConvLSTM1D(ConvLSTM):
    __doc__ = _DOC.format(rank=1)
    rank = 1


class ConvLSTM2D(ConvLSTM):
    __doc__ = _DOC.format(rank=2)
    rank = 2


class ConvLSTM3D(ConvLSTM):
    __doc__ = _DOC.format(rank=3)
    rank = 3
