"""`Wrapper`: the base of layers that wrap another layer (Keras' `keras.layers.Wrapper`)."""

import jax

from kerax import layers as layers_lib  # the namespace (its `deserialize`)
from kerax.layers.layer import Layer
from kerax.serialization import serialization_lib


class Wrapper(Layer):
    """Base class for layers that take another layer and augment it.

    The wrapped layer's variables live under the key `"layer"` of the wrapper's
    `params` and `state` (`variables["params"]["layer"]["kernel"]`). By itself a
    `Wrapper` runs the wrapped layer unchanged; subclasses override `forward` and call
    `self.layer.apply` with the sub-tree. The config nests the wrapped layer's config
    under `"layer"`, and `from_config` rebuilds it.

    Args:
        layer: the `kerax.layers.Layer` to wrap.
        **kwargs: base layer arguments (`name`, `trainable`, `dtype`).

    Raises:
        ValueError: if `layer` is not a layer.

    Example:
    >>> import jax, jax.numpy as jnp
    >>> from kerax.layers import Dense
    >>> wrapper = Wrapper(Dense(3))
    >>> v = wrapper.init(jax.random.PRNGKey(0), jnp.ones((2, 4)))
    >>> v["params"]["layer"]["kernel"].shape
    (4, 3)
    >>> wrapper.apply(v, jnp.ones((2, 4)))[0].shape
    (2, 3)
    """

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(  # noqa: TRY004 (Keras raises ValueError)
                f"{type(self).__name__} expects a `kerax.layers.Layer` instance to wrap, "
                f"received {layer!r} (of type {type(layer).__name__}). Pass a layer, for "
                f"example `{type(self).__name__}(kerax.layers.Dense(8))`."
            )
        super().__init__(**kwargs)
        self.layer = layer

    def build_variables(self, key, *inputs):
        v = self.layer.init(key, *inputs)
        params = {"layer": v["params"]} if v["params"] else {}
        state = {"layer": v["state"]} if v["state"] else {}
        return params, state

    def call_layer(self, params, state, *inputs, training=False, rng=None, **kwargs):
        """Runs the wrapped layer on its sub-tree: returns `(outputs, state)` with the
        wrapper's state updated."""
        sub = {"params": params.get("layer", {}), "state": state.get("layer", {})}
        outputs, sub_state = self.layer.apply(sub, *inputs, training=training, rng=rng,
                                              **kwargs)
        if sub_state:
            state = {**state, "layer": sub_state}
        return outputs, state

    def forward(self, params, state, *inputs, training=False, rng=None, **kwargs):
        return self.call_layer(params, state, *inputs, training=training, rng=rng, **kwargs)

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
