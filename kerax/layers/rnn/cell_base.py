"""What the built-in recurrent cells share: weight arguments, config and dropout masks.

A cell is a layer whose `forward(params, state, inputs, states, training, rng)` maps one
time step to `((output, new_states), state)`. Dropout masks are drawn from `rng`; the
`RNN` layer hands every step the same key, so each step sees the same mask, as in Keras.
As in Keras, every built-in cell owns a `SeedGenerator` (`cell.seed_generator`): its
state is in the cell's `state`, and `RNN` draws the key of a training call from it when
`apply` has no `rng` (see `kerax.layers.seed_state`).
"""

import jax
import jax.numpy as jnp

from kerax import activations, constraints, initializers, regularizers
from kerax.backend import host_prng
from kerax.layers.input_spec import InputSpec
from kerax.layers.layer import Layer
from kerax.random.seed_generator import SeedGenerator
from kerax.serialization import serialization_lib


def check_units(units, name="units"):
    if not isinstance(units, int) or isinstance(units, bool) or units <= 0:
        raise ValueError(
            f"Received an invalid value for argument `{name}`, expected a positive "
            f"integer, got {units}."
        )


def dropout_masks(layer, rng, like, rate, count, salt):
    """`count` Keras-style dropout masks (kept entries are `1/(1-rate)`) shaped like `like`.

    Returns None outside training or for a zero rate; a list when `count > 1`.
    """
    if not 0.0 < rate < 1.0:
        return None
    if rng is None:
        raise ValueError(
            f"{type(layer).__name__} '{layer.name}' uses dropout and needs a random key in "
            "training mode: call `apply(variables, x, training=True, "
            "rng=jax.random.PRNGKey(0))`."
        )
    keys = host_prng.split(host_prng.fold_in(rng, salt), count)
    scale = jnp.asarray(1.0 / (1.0 - rate), like.dtype)
    masks = [jnp.where(jax.random.bernoulli(k, 1.0 - rate, like.shape), scale,
                       jnp.zeros((), like.dtype)) for k in keys]
    return masks if count > 1 else masks[0]


class BaseCell(Layer):
    """Configuration shared by SimpleRNNCell, LSTMCell and GRUCell (not public)."""

    def __init__(self, units, activation="tanh", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, seed=None, **kwargs):
        check_units(units)
        super().__init__(**kwargs)
        self.units = units
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout = min(1.0, max(0.0, dropout))
        self.recurrent_dropout = min(1.0, max(0.0, recurrent_dropout))
        self.seed = seed
        self.seed_generator = SeedGenerator(seed)  # Keras' dropout seed state (always)
        self.output_size = units
        self.input_spec = InputSpec(ndim=2)

    def _kernels(self, key, input_dim, gates, bias_shape):
        k1, k2, k3 = host_prng.split(key, 3)
        params = {
            "kernel": self.kernel_initializer((input_dim, gates * self.units), self.dtype,
                                              key=k1),
            "recurrent_kernel": self.recurrent_initializer(
                (self.units, gates * self.units), self.dtype, key=k2),
        }
        if self.use_bias:
            params["bias"] = self.bias_initializer(bias_shape, self.dtype, key=k3)
        self.input_spec = InputSpec(ndim=2, axes={-1: input_dim})
        return params

    def _masks(self, rng, inputs, h, training, count):
        if not training:
            return None, None
        count_in = count if self.recurrent_dropout > 0 else 1
        dp = dropout_masks(self, rng, inputs, self.dropout, count_in, 0)
        rdp = dropout_masks(self, rng, h, self.recurrent_dropout, count, 1)
        return dp, rdp

    def get_initial_state(self, batch_size=None):
        """Zero states, one `(batch_size, size)` array per entry of `state_size`."""
        sizes = self.state_size if isinstance(self.state_size, list) else [self.state_size]
        return [jnp.zeros((batch_size, d), self.compute_dtype) for d in sizes]

    def param_rules(self):
        """Each param's `(regularizer, constraint)`, from the constructor arguments."""
        return {"kernel": (self.kernel_regularizer, self.kernel_constraint),
                "recurrent_kernel": (self.recurrent_regularizer, self.recurrent_constraint),
                "bias": (self.bias_regularizer, self.bias_constraint)}

    def get_config(self):
        ser = serialization_lib.serialize_keras_object
        return {
            **super().get_config(),
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": ser(self.kernel_regularizer),
            "recurrent_regularizer": ser(self.recurrent_regularizer),
            "bias_regularizer": ser(self.bias_regularizer),
            "kernel_constraint": ser(self.kernel_constraint),
            "recurrent_constraint": ser(self.recurrent_constraint),
            "bias_constraint": ser(self.bias_constraint),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "seed": self.seed,
        }


def per_gate(x, masks, n):
    """`n` copies of `x`, each multiplied by its mask when masks are given."""
    if masks is None:
        return [x] * n
    if not isinstance(masks, list):
        return [x * masks] * n
    return [x * m for m in masks]


def as_list(states):
    """The states as a list, and whether they came as one (as Keras' cells accept both)."""
    if isinstance(states, (list, tuple)):
        return list(states), True
    return [states], False
