"""`SimpleRNNCell` and `SimpleRNN`: `h_t = activation(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias)`."""

import jax.numpy as jnp

from kerax.layers import seed_state
from kerax.layers.layer import shapes_of
from kerax.layers.rnn.cell_base import BaseCell, as_list
from kerax.layers.rnn.rnn import CellRNN


class SimpleRNNCell(BaseCell):
    """One step of a fully-connected RNN whose output is fed back as the next state.

    Args:
        units: positive int, the size of the output and state.
        activation: activation name or callable (default `"tanh"`).
        use_bias: whether to add a bias vector.
        kernel_initializer, recurrent_initializer, bias_initializer: initializers
            (defaults `"glorot_uniform"`, `"orthogonal"`, `"zeros"`).
        kernel_regularizer, recurrent_regularizer, bias_regularizer: optional penalties.
        kernel_constraint, recurrent_constraint, bias_constraint: optional constraints.
        dropout, recurrent_dropout: fractions of the inputs / states dropped in training
            (masks are drawn from the `rng` key, or without one from the seed state).
        seed: the initial seed state of `cell.seed_generator` (random when None), drawn
            from in training when `apply` gets no `rng`.

    Call arguments: `inputs` `(batch, features)`, `states` (a list holding one
    `(batch, units)` array). Returns `(output, [new_state])`.

    Example:
    >>> import jax, jax.numpy as jnp
    >>> cell = SimpleRNNCell(4)
    >>> x, h = jnp.ones((2, 3)), jnp.zeros((2, 4))
    >>> v = cell.init(jax.random.PRNGKey(0), x)
    >>> (y, [h1]), _ = cell.apply(v, x, [h])
    >>> y.shape, bool((y == h1).all())
    ((2, 4), True)
    """

    def __init__(self, units, activation="tanh", use_bias=True, **kwargs):
        super().__init__(units, activation=activation, use_bias=use_bias, **kwargs)
        self.state_size = units

    def build_variables(self, key, inputs, *unused):
        input_shape = shapes_of(inputs)
        return self._kernels(key, input_shape[-1], 1, (self.units,)), seed_state.initial(self)

    def forward(self, params, state, inputs, states, training=False, rng=None, **kwargs):
        states, was_list = as_list(states)
        h_prev = states[0]
        dp, rdp = self._masks(rng, inputs, h_prev, training, 1)
        x = inputs * dp if dp is not None else inputs
        h = jnp.matmul(x, params["kernel"])
        if self.use_bias:
            h = h + params["bias"]
        if rdp is not None:
            h_prev = h_prev * rdp
        out = self.activation(h + jnp.matmul(h_prev, params["recurrent_kernel"]))
        return (out, [out] if was_list else out), state


class SimpleRNN(CellRNN):
    """Fully-connected RNN whose output is fed back as input, over a whole sequence.

    Takes `SimpleRNNCell`'s arguments plus `RNN`'s (`return_sequences`, `return_state`,
    `go_backwards`, `stateful`, `unroll`). Call with `(batch, timesteps, features)` and
    optionally `mask=` `(batch, timesteps)` and `initial_state=`.

    Example:
    >>> import jax, jax.numpy as jnp
    >>> layer = SimpleRNN(4, return_sequences=True)
    >>> x = jnp.ones((2, 5, 3))
    >>> v = layer.init(jax.random.PRNGKey(0), x)
    >>> layer.apply(v, x)[0].shape
    (2, 5, 4)
    """

    cell_class = SimpleRNNCell
    cell_name = "simple_rnn_cell"
