"""`Bidirectional`: runs a recurrent layer forwards and a copy backwards, then merges."""

import jax
import jax.numpy as jnp

from kerax import layers as layers_lib  # the namespace (its `deserialize`)
from kerax.backend import host_prng
from kerax.layers.input_spec import InputSpec
from kerax.layers.layer import Layer, shapes_of
from kerax.serialization import serialization_lib

_MERGE_MODES = ("sum", "mul", "ave", "concat", None)


def _copy(layer, name, **overrides):
    """A fresh layer from `layer`'s config, built if it was (Keras recreates it through
    `serialize_keras_object`, whose `build_config` builds it)."""
    config = {**layer.get_config(), "name": name, **overrides}
    copy = type(layer).from_config(config)
    build = layer.get_build_config()
    if build:
        copy.build_from_config(build)
    return copy


def _strip(name, prefix):
    return name[len(prefix):] if name.startswith(prefix) else name


class Bidirectional(Layer):
    """Bidirectional wrapper for RNNs.

    The forward copy reads the sequence as given, the backward copy (or `backward_layer`)
    reads it reversed; with `return_sequences` the backward outputs are flipped back to
    the input's time order before merging. Weights: the forward layer's, then the
    backward layer's (as Keras orders them).

    Args:
        layer: an `RNN` instance (`LSTM`, `GRU`, ...), copied from its config.
        merge_mode: `"concat"` (default), `"sum"`, `"mul"`, `"ave"`, or None (a list of
            both outputs).
        backward_layer: optional `RNN` instance for the backward direction.

    Example:
    >>> import jax, jax.numpy as jnp
    >>> from kerax.layers import LSTM
    >>> layer = Bidirectional(LSTM(4, return_sequences=True))
    >>> x = jnp.ones((2, 5, 3))
    >>> v = layer.init(jax.random.PRNGKey(0), x)
    >>> layer.apply(v, x)[0].shape
    (2, 5, 8)
    """

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None,
                 **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(
                "Please initialize `Bidirectional` layer with a `keras.layers.Layer` "
                f"instance. Received: {layer}"
            )
        if backward_layer is not None and not isinstance(backward_layer, Layer):
            raise ValueError(
                "`backward_layer` need to be a `keras.layers.Layer` instance. "
                f"Received: {backward_layer}"
            )
        if merge_mode not in _MERGE_MODES:
            raise ValueError(
                f"Invalid merge mode. Received: {merge_mode}. Merge mode should be one of "
                '{"sum", "mul", "ave", "concat", None}'
            )
        super().__init__(weights=weights, **kwargs)
        self.forward_layer = _copy(layer, "forward_" + _strip(layer.name, "forward_"))
        if backward_layer is None:
            backward_layer = _copy(layer, "backward_" + _strip(layer.name, "backward_"),
                                   go_backwards=not layer.go_backwards)
        self.backward_layer = backward_layer
        if self.forward_layer.go_backwards == self.backward_layer.go_backwards:
            raise ValueError(
                "Forward layer and backward layer should have different `go_backwards` "
                f"value. Received: forward_layer.go_backwards "
                f"{self.forward_layer.go_backwards}, backward_layer.go_backwards="
                f"{self.backward_layer.go_backwards}"
            )
        for attr in ("stateful", "return_sequences", "return_state"):
            f, b = getattr(self.forward_layer, attr), getattr(self.backward_layer, attr)
            if f != b:
                raise ValueError(
                    "Forward layer and backward layer are expected to have the same value "
                    f'for attribute "{attr}", got "{f}" for forward layer and "{b}" for '
                    "backward layer"
                )
        for sub in (self.forward_layer, self.backward_layer):
            if hasattr(sub, "zero_output_for_mask"):
                sub.zero_output_for_mask = sub.return_sequences
        self.merge_mode = merge_mode
        self.stateful = layer.stateful
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        self.supports_masking = True
        self.input_spec = InputSpec(min_ndim=3)

    def _children(self):
        return {"forward_layer": self.forward_layer, "backward_layer": self.backward_layer}

    def build_variables(self, key, sequences, *unused):
        sequences_shape = shapes_of(sequences)
        spec = jax.ShapeDtypeStruct(tuple(sequences_shape), self.dtype)
        params, state = {}, {}
        for i, (name, sub) in enumerate(self._children().items()):
            v = sub.init(host_prng.fold_in(key, i), spec)
            if v["params"]:
                params[name] = v["params"]
            if v["state"]:
                state[name] = v["state"]
        self.input_spec = InputSpec(ndim=len(sequences_shape), axes={-1: sequences_shape[-1]})
        return params, state

    def forward(self, params, state, sequences, initial_state=None, mask=None,
                training=False, rng=None, **kwargs):
        fwd_state = bwd_state = None
        if initial_state is not None:
            half = len(initial_state) // 2
            fwd_state, bwd_state = list(initial_state[:half]), list(initial_state[half:])
        results, new_state = [], dict(state)
        for i, (name, sub, init) in enumerate((
                ("forward_layer", self.forward_layer, fwd_state),
                ("backward_layer", self.backward_layer, bwd_state))):
            key = None if rng is None else host_prng.fold_in(rng, i)
            y, s = sub.forward(params.get(name, {}), state.get(name, {}), sequences,
                               initial_state=init, mask=mask, training=training, rng=key)
            if s:
                new_state[name] = s
            results.append(y)
        y, y_rev = results
        states = ()
        if self.return_state:
            states = tuple(y[1:]) + tuple(y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        y, y_rev = y.astype(self.compute_dtype), y_rev.astype(self.compute_dtype)  # as Keras
        if self.return_sequences:
            y_rev = jnp.flip(y_rev, axis=1)
        if self.merge_mode == "concat":
            out = jnp.concatenate([y, y_rev], axis=-1)
        elif self.merge_mode == "sum":
            out = y + y_rev
        elif self.merge_mode == "ave":
            out = (y + y_rev) / 2
        elif self.merge_mode == "mul":
            out = y * y_rev
        else:
            out = [y, y_rev]
        if self.return_state:
            out = (tuple(out) if self.merge_mode is None else (out,)) + states
        return out, new_state

    def compute_mask(self, inputs, previous_mask=None):
        """The input mask for sequence outputs (one per output without a merge)."""
        if self.return_sequences:
            return previous_mask if self.merge_mode else [previous_mask, previous_mask]
        return None if self.merge_mode else [None, None]

    def reset_states(self):
        """Zeros the carries of a stateful wrapped layer (eager use)."""
        if self._variables is None:
            return
        zero = jax.tree_util.tree_map(jnp.zeros_like, self._variables["state"])
        self._variables = {"params": self._variables["params"], "state": zero}

    reset_state = reset_states

    def get_config(self):
        ser = serialization_lib.serialize_keras_object
        config = {**super().get_config(), "merge_mode": self.merge_mode,
                  "layer": ser(self.forward_layer)}
        config["backward_layer"] = ser(self.backward_layer)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        layer = layers_lib.deserialize(config.pop("layer"), custom_objects)
        backward = config.pop("backward_layer", None)
        if backward is not None:
            backward = layers_lib.deserialize(backward, custom_objects)
        dtype = config.get("dtype")
        if isinstance(dtype, dict):
            config["dtype"] = dtype.get("config", {}).get("name")
        return cls(layer, backward_layer=backward, **config)
