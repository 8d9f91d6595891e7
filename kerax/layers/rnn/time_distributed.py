"""`TimeDistributed`: applies one layer to every time step (axis 1) of its input."""

import jax
import jax.numpy as jnp

from kerax import layers as layers_lib  # the namespace (its `deserialize`)
from kerax.backend import host_prng
from kerax.layers.core.masking import _call_parameters
from kerax.layers import policies
from kerax.layers.input_spec import InputSpec
from kerax.layers.layer import Layer, shapes_of
from kerax.serialization import serialization_lib


class TimeDistributed(Layer):
    """Applies `layer` to every temporal slice `inputs[:, t]` with the same weights.

    The wrapped layer runs once per step in order, so a layer with state (for example
    BatchNormalization in training) updates it step after step, as in Keras.

    Args:
        layer: the layer to apply.

    Input shape: `(batch, timesteps, ...)`, at least rank 3.

    Example:
    >>> import jax, jax.numpy as jnp
    >>> from kerax.layers import Dense
    >>> layer = TimeDistributed(Dense(4))
    >>> x = jnp.ones((2, 5, 3))
    >>> v = layer.init(jax.random.PRNGKey(0), x)
    >>> layer.apply(v, x)[0].shape
    (2, 5, 4)
    """

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(
                "Please initialize `TimeDistributed` layer with a `keras.layers.Layer` "
                f"instance. Received: {layer}"
            )
        super().__init__(**kwargs)
        self.layer = layer
        self.supports_masking = True
        self.input_spec = InputSpec(min_ndim=3)

    def build_variables(self, key, inputs, *unused):
        input_shape = shapes_of(inputs)
        step = (input_shape[0],) + tuple(input_shape[2:])
        v = self.layer.init(key, jax.ShapeDtypeStruct(step, self.dtype))
        params = {"layer": v["params"]} if v["params"] else {}
        state = {"layer": v["state"]} if v["state"] else {}
        return params, state

    def _takes_mask(self):
        return "mask" in _call_parameters(self.layer)

    def forward(self, params, state, inputs, mask=None, training=False, rng=None, **kwargs):
        if mask is not None and (mask.ndim < 2 or mask.shape[:2] != inputs.shape[:2]):
            raise ValueError(
                f"The `mask` passed to the `TimeDistributed` layer has a shape {mask.shape} "
                f"that is incompatible with the input shape {inputs.shape}. The first two "
                "dimensions of the mask (batch size and timesteps) must match the input's "
                f"first two dimensions. Expected mask shape prefix: {inputs.shape[:2]}."
            )
        sub_params, sub_state = params.get("layer", {}), state.get("layer", {})
        # As Keras: `self.layer.call` runs inside this layer's autocast scope.
        sub_params, inputs = policies.autocast(self, sub_params, inputs)
        outputs = []
        for t in range(inputs.shape[1]):
            kw = {"mask": mask[:, t]} if mask is not None and self._takes_mask() else {}
            key = None if rng is None else host_prng.fold_in(rng, t)
            y, sub_state = self.layer.forward(sub_params, sub_state, inputs[:, t],
                                              training=training, rng=key, **kw)
            outputs.append(y)
        out = jax.tree_util.tree_map(lambda *ys: jnp.stack(ys, axis=1), *outputs)
        if sub_state:
            state = {**state, "layer": sub_state}
        return out, state

    def compute_mask(self, inputs, previous_mask=None):
        """The input mask, unchanged (one flag per time step)."""
        return previous_mask

    def get_config(self):
        return {**super().get_config(),
                "layer": serialization_lib.serialize_keras_object(self.layer)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        layer = layers_lib.deserialize(config.pop("layer"), custom_objects)
        dtype = config.get("dtype")
        if isinstance(dtype, dict):
            config["dtype"] = dtype.get("config", {}).get("name")
        return cls(layer, **config)
