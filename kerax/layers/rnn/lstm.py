"""`LSTMCell` and `LSTM` (Keras' gate order: input, forget, cell, output)."""

import jax.numpy as jnp

from kerax import activations
from kerax.backend import host_prng
from kerax.layers import seed_state
from kerax.layers.layer import shapes_of
from kerax.layers.rnn.cell_base import BaseCell, per_gate
from kerax.layers.rnn.rnn import CellRNN


class LSTMCell(BaseCell):
    """One step of a Long Short-Term Memory layer (Hochreiter 1997).

    Weights as Keras lays them out: `kernel (features, 4*units)`,
    `recurrent_kernel (units, 4*units)`, `bias (4*units,)`, gates in the order
    input, forget, cell, output.

    Args:
        units: positive int, the size of the output and of both states.
        activation: for the cell and output (default `"tanh"`).
        recurrent_activation: for the gates (default `"sigmoid"`).
        unit_forget_bias: add 1 to the forget gate's bias at initialization.
        Other arguments as in `SimpleRNNCell`.

    Call arguments: `inputs` `(batch, features)`, `states` `[h, c]`.
    Returns `(h, [h, c])`.

    Example:
    >>> import jax, jax.numpy as jnp
    >>> cell = LSTMCell(4)
    >>> x = jnp.ones((2, 3))
    >>> v = cell.init(jax.random.PRNGKey(0), x)
    >>> v["params"]["bias"].tolist()[4:8]
    [1.0, 1.0, 1.0, 1.0]
    >>> (h, [h, c]), _ = cell.apply(v, x, cell.get_initial_state(2))
    >>> h.shape, c.shape
    ((2, 4), (2, 4))
    """

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid",
                 use_bias=True, unit_forget_bias=True, **kwargs):
        kwargs.pop("implementation", None)
        super().__init__(units, activation=activation, use_bias=use_bias, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = unit_forget_bias
        self.state_size = [units, units]

    def build_variables(self, key, inputs, *unused):
        input_shape = shapes_of(inputs)
        params = self._kernels(key, input_shape[-1], 4, (4 * self.units,))
        if self.use_bias and self.unit_forget_bias:
            u, k = self.units, host_prng.fold_in(key, 7)
            params["bias"] = jnp.concatenate([
                self.bias_initializer((u,), self.dtype, key=k),
                jnp.ones((u,), self.dtype),
                self.bias_initializer((2 * u,), self.dtype, key=k)])
        return params, seed_state.initial(self)

    def forward(self, params, state, inputs, states, training=False, rng=None, **kwargs):
        h_prev, c_prev = states[0], states[1]
        dp, rdp = self._masks(rng, inputs, h_prev, training, 4)
        kernel, rec = params["kernel"], params["recurrent_kernel"]
        if rdp is None and not isinstance(dp, list):
            x = inputs * dp if dp is not None else inputs
            z = jnp.matmul(x, kernel) + jnp.matmul(h_prev, rec)
            if self.use_bias:
                z = z + params["bias"]
        else:  # Keras' implementation 1: one mask per gate
            xs, hs = per_gate(inputs, dp, 4), per_gate(h_prev, rdp, 4)
            u = self.units
            parts = []
            for g in range(4):
                part = jnp.matmul(xs[g], kernel[:, g * u:(g + 1) * u])
                if self.use_bias:
                    part = part + params["bias"][g * u:(g + 1) * u]
                parts.append(part + jnp.matmul(hs[g], rec[:, g * u:(g + 1) * u]))
            z = jnp.concatenate(parts, axis=-1)
        zi, zf, zc, zo = jnp.split(z, 4, axis=-1)
        i, f, o = (self.recurrent_activation(a) for a in (zi, zf, zo))
        c = f * c_prev + i * self.activation(zc)
        h = o * self.activation(c)
        return (h, [h, c]), state

    def get_config(self):
        return {**super().get_config(),
                "recurrent_activation": activations.serialize(self.recurrent_activation),
                "unit_forget_bias": self.unit_forget_bias}


class LSTM(CellRNN):
    """Long Short-Term Memory layer over a whole sequence, one `lax.scan` over time.

    Takes `LSTMCell`'s arguments plus `RNN`'s (`return_sequences`, `return_state`,
    `go_backwards`, `stateful`, `unroll`); `use_cudnn` is accepted and ignored (XLA
    compiles the scan for every backend). Call with `(batch, timesteps, features)` and
    optionally `mask=` `(batch, timesteps)` and `initial_state=[h, c]`.

    Example:
    >>> import jax, jax.numpy as jnp
    >>> layer = LSTM(4, return_state=True)
    >>> x = jnp.ones((2, 5, 3))
    >>> v = layer.init(jax.random.PRNGKey(0), x)
    >>> (y, h, c), _ = layer.apply(v, x)
    >>> y.shape, bool((y == h).all())
    ((2, 4), True)
    """

    cell_class = LSTMCell
    cell_name = "lstm_cell"
