"""`RNN`: runs a cell over the time axis with one `jax.lax.scan` (or a Python loop).

Semantics follow Keras 3 on JAX: `go_backwards` processes the reversed sequence and
returns outputs in processing order; a masked step keeps the previous states and outputs
the previous state (zeros with `zero_output_for_mask=True`); with `unroll=True` a masked
step outputs the previous output. A stateful layer keeps its carry in the `state` pytree
(`state["states"]`), so it persists across `apply` calls and is reset by `reset_states()`.
"""

import jax
import jax.numpy as jnp
from jax import lax

from kerax import layers as layers_lib  # the namespace (its `deserialize`)
from kerax.layers import policies, seed_state
from kerax.layers.input_spec import InputSpec
from kerax.layers.layer import Layer, shapes_of
from kerax.layers.rnn.stacked_rnn_cells import StackedRNNCells
from kerax.serialization import serialization_lib

_RNN_ARGS = ("return_sequences", "return_state", "go_backwards", "stateful", "unroll",
             "zero_output_for_mask")
_LAYER_ARGS = ("name", "trainable", "dtype", "autocast", "activity_regularizer", "input_shape",
               "input_dim", "batch_input_shape", "batch_size", "weights")


def _keep(mask_t, like):
    return jnp.reshape(mask_t, mask_t.shape + (1,) * (like.ndim - mask_t.ndim))


def _keras_draws(cell):
    """How far the cell's seed counter advances per training call: one per kind of dropout
    used (Keras' own count depends on its cell implementation; it is not matched)."""
    return int(getattr(cell, "dropout", 0) > 0) + int(getattr(cell, "recurrent_dropout", 0) > 0)


def _is_nested(x):
    return isinstance(x, (list, tuple))


class RNN(Layer):
    """Base class for recurrent layers: iterates a cell over a sequence.

    Args:
        cell: a cell (a layer with `state_size` whose call maps `(inputs, states)` to
            `(output, new_states)`), or a list of cells (stacked with `StackedRNNCells`).
            Built-in cells and user cells written the Keras way both work.
        return_sequences: return the output of every step (`(batch, timesteps, units)`)
            instead of the last one.
        return_state: also return the final states: `(output, *states)`.
        go_backwards: process the sequence in reverse.
        stateful: keep the final states as the next call's initial states (in the
            `state` pytree; the batch size must be static).
        unroll: unroll the time loop in Python instead of `lax.scan` (short sequences).
        zero_output_for_mask: masked steps output zeros instead of the previous state.

    Call arguments: `sequences` `(batch, timesteps, ...)`; `initial_state` (list of
    arrays); `mask` (bool, `(batch, timesteps)`, True = use the step); `training`, `rng`.

    Example:
    >>> import jax, jax.numpy as jnp
    >>> from kerax.layers import LSTMCell
    >>> layer = RNN(LSTMCell(4), return_sequences=True)
    >>> x = jnp.ones((2, 5, 3))
    >>> v = layer.init(jax.random.PRNGKey(0), x)
    >>> sorted(v["params"]["cell"])
    ['bias', 'kernel', 'recurrent_kernel']
    >>> layer.apply(v, x)[0].shape
    (2, 5, 4)
    """

    def __init__(self, cell, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, zero_output_for_mask=False, **kwargs):
        if isinstance(cell, (list, tuple)):
            cell = StackedRNNCells(cell)
        state_size = getattr(cell, "state_size", None)
        if state_size is None:
            raise ValueError(
                f"The RNN cell {type(cell).__name__} has no `state_size`: set "
                "`self.state_size` (an int, or a list with one int per state) in its "
                "`__init__`."
            )
        if not isinstance(state_size, (list, tuple, int)):
            raise ValueError(
                "`state_size` must be an integer, or a list/tuple of integers (one for each "
                f"state tensor). Received: state_size={state_size!r}"
            )
        super().__init__(**kwargs)
        self.cell = cell
        self.return_sequences = return_sequences
        self.return_state = return_state
        self.go_backwards = go_backwards
        self.stateful = stateful
        self.unroll = unroll
        self.zero_output_for_mask = zero_output_for_mask
        self.supports_masking = True
        self.input_spec = InputSpec(min_ndim=3)

    @property
    def state_size(self):
        size = self.cell.state_size
        return [size] if isinstance(size, int) else list(size)

    # ------------------------------------------------------------------ variables --
    def build_variables(self, key, sequences, *unused):
        sequences_shape = shapes_of(sequences)
        if self.stateful and sequences_shape[0] is None:
            raise ValueError(
                "When using `stateful=True` in a RNN, the batch size must be static. Found "
                f"dynamic batch size: sequence.shape={tuple(sequences_shape)}"
            )
        step = (sequences_shape[0],) + tuple(sequences_shape[2:])
        cell_vars = self.cell.init(key, jax.ShapeDtypeStruct(step, self.dtype))
        params, state = {}, {}
        if cell_vars["params"]:
            params["cell"] = cell_vars["params"]
        if cell_vars["state"]:
            state["cell"] = cell_vars["state"]
        if self.stateful:
            state["states"] = jax.tree_util.tree_map(  # a variable: the variable dtype
                lambda s: jnp.asarray(s, self.dtype), self.get_initial_state(sequences_shape))
        return params, state

    def get_initial_state(self, sequences_shape):
        """Zero initial states for sequences of this shape (as a list)."""
        batch = sequences_shape[0]
        fn = getattr(self.cell, "get_initial_state", None)
        if fn is not None:
            states = fn(batch_size=batch)
            return list(states) if _is_nested(states) else [states]
        return [jnp.zeros((batch, d), self.compute_dtype) for d in self.state_size]

    def _weight_leaves(self, variables):
        leaves = super()._weight_leaves(variables)
        return [(c, p) for c, p in leaves if not (c == "state" and p[0] == "states")]

    def reset_states(self):
        """Zeros the carry of a stateful layer kept on the object (eager use)."""
        if self._variables is not None and "states" in self._variables["state"]:
            states = jax.tree_util.tree_map(jnp.zeros_like, self._variables["state"]["states"])
            self._variables = {"params": self._variables["params"],
                               "state": {**self._variables["state"], "states": states}}

    reset_state = reset_states

    @property
    def states(self):
        """The carry of a stateful layer (None otherwise or before it is built)."""
        if self._variables is None:
            return None
        return self._variables["state"].get("states")

    # -------------------------------------------------------------------- forward --
    def _step_fn(self, params, state, training, rng):
        cell_params, cell_state = params.get("cell", {}), state.get("cell", {})
        if not self.cell._is_container():  # as Keras' `self.cell(...)`: its own policy
            cell_params, _ = policies.autocast(self.cell, cell_params, ())

        def step(x_t, states):
            (out, new), _ = self.cell.forward(cell_params, cell_state, x_t, states,
                                              training=training, rng=rng)
            return out, list(new) if _is_nested(new) else [new]

        return step

    def forward(self, params, state, sequences, initial_state=None, mask=None,
                training=False, rng=None, **kwargs):
        x = jnp.asarray(sequences)
        compute = self.cell.compute_dtype  # as Keras: the loop runs in the cell's dtype
        if jnp.issubdtype(x.dtype, jnp.floating) and x.dtype != compute:
            x = x.astype(compute)
        if initial_state is None:
            states = state["states"] if self.stateful else self.get_initial_state(x.shape)
        else:
            states = list(initial_state) if _is_nested(initial_state) else [initial_state]
        if self.stateful:
            want = jax.tree_util.tree_leaves(state["states"])[0].shape[0]
            if x.shape[0] != want:
                raise ValueError(
                    f"{type(self).__name__} '{self.name}' is stateful, so the batch size of "
                    "the input sequences must be the batch size of its carried state: "
                    f"expected batch size {want}, received {x.shape[0]}. Rebuild the layer "
                    "for the new batch size (or pass `initial_state`)."
                )
        states = jax.tree_util.tree_map(lambda s: jnp.asarray(s, compute), states)
        draws = _keras_draws(self.cell) if training else 0
        if draws and "seed_generator" in state.get("cell", {}):  # the cell's seed state
            rng, cell_state = seed_state.draw(self.cell, state["cell"], rng, count=draws)
            state = {**state, "cell": cell_state}
        step = self._step_fn(params, state, training, rng)
        xs = jnp.swapaxes(x, 0, 1)
        ms = None if mask is None else jnp.swapaxes(jnp.asarray(mask, bool), 0, 1)
        if self.go_backwards:
            xs = jnp.flip(xs, 0)
            ms = None if ms is None else jnp.flip(ms, 0)
        run = self._unrolled if self.unroll else self._scanned
        outputs, states = run(step, xs, ms, states)
        outputs, states = jax.tree_util.tree_map(  # as Keras: cast to the compute dtype
            lambda a: a.astype(self.compute_dtype), (outputs, states))
        last = outputs[-1]
        outputs = jnp.swapaxes(outputs, 0, 1)
        output = outputs if self.return_sequences else last
        if self.stateful:
            state = {**state, "states": jax.tree_util.tree_map(
                lambda s: jnp.asarray(s, self.dtype), states)}
        if self.return_state:
            return (output, *states), state
        return output, state

    def _scanned(self, step, xs, ms, states):
        if ms is None:
            def body(carry, x_t):
                out, new = step(x_t, carry)
                return new, out

            final, outputs = lax.scan(body, states, xs)
            return outputs, final

        def masked_body(carry, inp):
            x_t, m_t = inp
            out, new = step(x_t, carry)
            if self.zero_output_for_mask:
                prev = jnp.zeros_like(out)
            else:
                prev = carry[-1][0] if _is_nested(carry[0]) else carry[0]
            out = jnp.where(_keep(m_t, out), out, prev)
            new = jax.tree_util.tree_map(lambda n, o: jnp.where(_keep(m_t, n), n, o), new, carry)
            return new, out

        final, outputs = lax.scan(masked_body, states, (xs, ms))
        return outputs, final

    def _unrolled(self, step, xs, ms, states):
        outputs = []
        for t in range(xs.shape[0]):
            out, new = step(xs[t], states)
            if ms is not None:
                keep = ms[t]
                prev = outputs[-1] if outputs else jnp.zeros_like(out)
                out = jnp.where(_keep(keep, out), out, prev)
                new = jax.tree_util.tree_map(lambda n, o: jnp.where(_keep(keep, n), n, o),
                                             new, states)
            states = new
            outputs.append(out)
        return jnp.stack(outputs), states

    def compute_mask(self, inputs, previous_mask=None):
        """The input mask when `return_sequences` (None otherwise); None for each state."""
        mask = previous_mask if self.return_sequences else None
        if self.return_state:
            return [mask] + [None] * len(self.state_size)
        return mask

    # ------------------------------------------------------------------- config --
    def _rnn_config(self):
        return {**super().get_config(),
                **{name: getattr(self, name) for name in _RNN_ARGS}}

    def get_config(self):
        return {**self._rnn_config(),
                "cell": serialization_lib.serialize_keras_object(self.cell)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        cell = config.pop("cell")
        if isinstance(cell, list):
            cell = [layers_lib.deserialize(c, custom_objects) for c in cell]
        elif isinstance(cell, dict):
            cell = layers_lib.deserialize(cell, custom_objects)
        dtype = config.get("dtype")
        if isinstance(dtype, dict):
            config["dtype"] = dtype.get("config", {}).get("name")
        return cls(cell, **config)


_FORWARDED = ("units", "activation", "recurrent_activation", "use_bias", "unit_forget_bias",
              "reset_after", "kernel_initializer", "recurrent_initializer", "bias_initializer",
              "kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
              "kernel_constraint", "recurrent_constraint", "bias_constraint", "dropout",
              "recurrent_dropout", "seed")


class CellRNN(RNN):
    """An `RNN` over a built-in cell made from the layer's own arguments (not public).

    Subclasses set `cell_class` and `cell_name`; the constructor sends `RNN`'s and
    `Layer`'s arguments to the layer and the rest to the cell, as Keras' LSTM does.
    """

    cell_class = None
    cell_name = None

    def __init__(self, units, **kwargs):
        use_cudnn = kwargs.pop("use_cudnn", "auto")
        if use_cudnn not in ("auto", True, False):
            raise ValueError(
                "Invalid valid received for argument `use_cudnn`. Expected one of "
                f"{{'auto', True, False}}. Received: use_cudnn={use_cudnn}"
            )
        own = {k: kwargs.pop(k) for k in list(kwargs) if k in _RNN_ARGS + _LAYER_ARGS}
        cell = self.cell_class(units, name=self.cell_name, dtype=own.get("dtype"),
                               trainable=own.get("trainable", True), **kwargs)
        super().__init__(cell, **own)
        self.input_spec = InputSpec(ndim=3)

    def build_variables(self, key, sequences, *unused):
        sequences_shape = shapes_of(sequences)
        out = super().build_variables(key, sequences)
        self.input_spec = InputSpec(ndim=3, axes={-1: sequences_shape[-1]})
        return out

    def __getattr__(self, name):
        cell = self.__dict__.get("cell")
        if name in _FORWARDED and cell is not None:
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
