"""`StackedRNNCells`: several cells behaving as one (each feeds the next its output)."""

import jax
import jax.numpy as jnp

from kerax import layers as layers_lib  # the namespace (its `deserialize`)
from kerax.backend import host_prng
from kerax.layers import policies
from kerax.layers.layer import Layer, shapes_of
from kerax.serialization import serialization_lib


def _output_size(cell):
    if getattr(cell, "output_size", None) is not None:
        return cell.output_size
    size = cell.state_size
    return size[0] if isinstance(size, (list, tuple)) else size


class StackedRNNCells(Layer):
    """Wraps a list of RNN cells so that `RNN` runs them as one deeper cell.

    Its states are the list of each cell's states; its weights are the cells' weights,
    in order (`params["cells_0"]`, `params["cells_1"]`, ...).

    Args:
        cells: list of cells.

    Example:
    >>> import jax, jax.numpy as jnp
    >>> from kerax.layers import LSTMCell, GRUCell, RNN
    >>> layer = RNN(StackedRNNCells([LSTMCell(4), GRUCell(2)]))
    >>> x = jnp.ones((1, 5, 3))
    >>> v = layer.init(jax.random.PRNGKey(0), x)
    >>> layer.apply(v, x)[0].shape
    (1, 2)
    """

    def __init__(self, cells, **kwargs):
        super().__init__(**kwargs)
        for cell in cells:
            if getattr(cell, "state_size", None) is None:
                raise ValueError(
                    "All cells must have a `state_size` attribute. "
                    f"Received: cells={cells}"
                )
        self.cells = list(cells)

    @property
    def state_size(self):
        return [c.state_size for c in self.cells]

    @property
    def output_size(self):
        return _output_size(self.cells[-1])

    def get_initial_state(self, batch_size=None):
        """Each cell's zero initial states, in a list."""
        states = []
        for cell in self.cells:
            fn = getattr(cell, "get_initial_state", None)
            if fn is not None:
                states.append(fn(batch_size=batch_size))
            elif isinstance(cell.state_size, int):
                states.append(jnp.zeros((batch_size, cell.state_size), self.compute_dtype))
            else:
                states.append([jnp.zeros((batch_size, d), self.compute_dtype)
                               for d in cell.state_size])
        return states

    def build_variables(self, key, inputs, *unused):
        input_shape = shapes_of(inputs)
        params, state = {}, {}
        for i, cell in enumerate(self.cells):
            spec = jax.ShapeDtypeStruct(tuple(input_shape), self.dtype)
            v = type(cell).init(cell, host_prng.fold_in(key, i), spec)
            if v["params"]:
                params[f"cells_{i}"] = v["params"]
            if v["state"]:
                state[f"cells_{i}"] = v["state"]
            input_shape = (input_shape[0], _output_size(cell))
        return params, state

    def forward(self, params, state, inputs, states, training=False, rng=None, **kwargs):
        new_states = []
        for i, (cell, cell_states) in enumerate(zip(self.cells, states)):
            was_list = isinstance(cell_states, (list, tuple))
            cell_states = list(cell_states) if was_list else [cell_states]
            key = None if rng is None else host_prng.fold_in(rng, i)
            # As Keras' `cell(...)`: the cell's policy casts its variables and inputs.
            cell_params, (inputs, cell_states) = policies.autocast(
                cell, params.get(f"cells_{i}", {}), (inputs, cell_states))
            (inputs, cell_states), _ = cell.forward(
                cell_params, state.get(f"cells_{i}", {}), inputs,
                cell_states, training=training, rng=key)
            if not isinstance(cell_states, (list, tuple)):
                cell_states = [cell_states]
            new_states.append(cell_states[0] if len(cell_states) == 1 and not was_list
                              else list(cell_states))
        if len(new_states) == 1:
            new_states = new_states[0]
        return (inputs, new_states), state

    def get_config(self):
        ser = serialization_lib.serialize_keras_object
        return {**super().get_config(), "cells": [ser(c) for c in self.cells]}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        cells = [layers_lib.deserialize(c, custom_objects) for c in config.pop("cells")]
        dtype = config.get("dtype")
        if isinstance(dtype, dict):
            config["dtype"] = dtype.get("config", {}).get("name")
        return cls(cells, **config)
