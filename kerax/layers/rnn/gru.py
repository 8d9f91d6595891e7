"""`GRUCell` and `GRU` (Keras' gate order: update z, reset r, candidate h)."""

import jax.numpy as jnp

from kerax import activations
from kerax.layers import seed_state
from kerax.layers.layer import shapes_of
from kerax.layers.rnn.cell_base import BaseCell, as_list, per_gate
from kerax.layers.rnn.rnn import CellRNN


class GRUCell(BaseCell):
    """One step of a Gated Recurrent Unit (Cho et al. 2014).

    Weights as Keras lays them out: `kernel (features, 3*units)`,
    `recurrent_kernel (units, 3*units)`, gates z, r, h; `bias` is `(2, 3*units)` (input
    and recurrent biases) with `reset_after=True` (Keras' default), else `(3*units,)`.

    Args:
        units: positive int, the size of the output and state.
        recurrent_activation: for the gates (default `"sigmoid"`).
        reset_after: apply the reset gate after the recurrent matmul (default True).
        Other arguments as in `SimpleRNNCell`.

    Example:
    >>> import jax, jax.numpy as jnp
    >>> cell = GRUCell(4)
    >>> x = jnp.ones((2, 3))
    >>> v = cell.init(jax.random.PRNGKey(0), x)
    >>> v["params"]["bias"].shape
    (2, 12)
    >>> (h, [h1]), _ = cell.apply(v, x, [jnp.zeros((2, 4))])
    >>> h.shape
    (2, 4)
    """

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid",
                 use_bias=True, reset_after=True, **kwargs):
        kwargs.pop("implementation", None)
        super().__init__(units, activation=activation, use_bias=use_bias, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.reset_after = reset_after
        self.state_size = units

    def build_variables(self, key, inputs, *unused):
        input_shape = shapes_of(inputs)
        bias_shape = (2, 3 * self.units) if self.reset_after else (3 * self.units,)
        return self._kernels(key, input_shape[-1], 3, bias_shape), seed_state.initial(self)

    def forward(self, params, state, inputs, states, training=False, rng=None, **kwargs):
        states, was_list = as_list(states)
        h_prev = states[0]
        u = self.units
        dp, rdp = self._masks(rng, inputs, h_prev, training, 3)
        kernel, rec = params["kernel"], params["recurrent_kernel"]
        in_bias = rec_bias = None
        if self.use_bias:
            in_bias = params["bias"][0] if self.reset_after else params["bias"]
            rec_bias = params["bias"][1] if self.reset_after else None
        xs, hs = per_gate(inputs, dp, 3), per_gate(h_prev, rdp, 3)
        if isinstance(dp, list) or rdp is not None:
            x_z, x_r, x_h = (jnp.matmul(xs[g], kernel[:, g * u:(g + 1) * u]) for g in range(3))
            if in_bias is not None:
                x_z, x_r, x_h = x_z + in_bias[:u], x_r + in_bias[u:2 * u], x_h + in_bias[2 * u:]
        else:
            mx = jnp.matmul(xs[0], kernel)
            if in_bias is not None:
                mx = mx + in_bias
            x_z, x_r, x_h = jnp.split(mx, 3, axis=-1)
        r_z = jnp.matmul(hs[0], rec[:, :u])
        r_r = jnp.matmul(hs[1], rec[:, u:2 * u])
        if rec_bias is not None:
            r_z, r_r = r_z + rec_bias[:u], r_r + rec_bias[u:2 * u]
        z = self.recurrent_activation(x_z + r_z)
        r = self.recurrent_activation(x_r + r_r)
        if self.reset_after:
            r_h = jnp.matmul(hs[2], rec[:, 2 * u:])
            if rec_bias is not None:
                r_h = r_h + rec_bias[2 * u:]
            r_h = r * r_h
        else:
            r_h = jnp.matmul(r * hs[2], rec[:, 2 * u:])
        hh = self.activation(x_h + r_h)
        h = z * h_prev + (1 - z) * hh
        return (h, [h] if was_list else h), state

    def get_config(self):
        return {**super().get_config(),
                "recurrent_activation": activations.serialize(self.recurrent_activation),
                "reset_after": self.reset_after}


class GRU(CellRNN):
    """Gated Recurrent Unit layer over a whole sequence, one `lax.scan` over time.

    Takes `GRUCell`'s arguments (Keras' `reset_after=True` default) plus `RNN`'s
    (`return_sequences`, `return_state`, `go_backwards`, `stateful`, `unroll`);
    `use_cudnn` is accepted and ignored.

    Example:
    >>> import jax, jax.numpy as jnp
    >>> layer = GRU(4, return_sequences=True, go_backwards=True)
    >>> x = jnp.ones((2, 5, 3))
    >>> v = layer.init(jax.random.PRNGKey(0), x)
    >>> layer.apply(v, x)[0].shape
    (2, 5, 4)
    """

    cell_class = GRUCell
    cell_name = "gru_cell"
