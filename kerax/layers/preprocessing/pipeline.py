"""`Pipeline`: applies a list of layers in order, as one plain layer (Keras' `Pipeline`)."""

import jax

from kerax import layers as layers_lib  # the namespace (its `deserialize`)
from kerax.backend import host_prng
from kerax.layers.layer import Layer
from kerax.layers.preprocessing._base import TrainingByDefault
from kerax.serialization import serialization_lib


class Pipeline(TrainingByDefault, Layer):
    """Applies a series of layers to an input, one after the other.

    Unlike `Sequential` it is a plain layer, not a model; it is meant for preprocessing
    and data augmentation. Each layer's variables live under its name; layer `i` gets
    `fold_in(rng, i)` as its key. Called eagerly without `training`, it trains (its
    augmentations are on), as Keras' `Pipeline` does.

    Args:
        layers: a list of `kerax.layers.Layer` objects.
        name: the layer's name.

    Raises:
        ValueError: if `layers` is not a list of layers.

    Example:
    >>> import jax, numpy as np
    >>> from kerax.layers import RandomFlip, Rescaling
    >>> pipe = Pipeline([Rescaling(1 / 255), RandomFlip("horizontal")])
    >>> y, _ = pipe.apply({}, np.full((1, 2, 2, 1), 255.0), training=False)
    >>> y.ravel().tolist()
    [1.0, 1.0, 1.0, 1.0]
    """

    def __init__(self, layers, name=None, **kwargs):
        if not isinstance(layers, (list, tuple)) or not all(isinstance(layer, Layer)
                                                            for layer in layers):
            raise ValueError(
                "Pipeline expects a list of `kerax.layers.Layer` instances, e.g. "
                "`Pipeline([RandomFlip(), RandomRotation(0.1)])`. Received: "
                f"layers={layers!r}")
        super().__init__(name=name, **kwargs)
        self._pipeline_layers = list(layers)

    @property
    def layers(self):
        return self._pipeline_layers

    def _children(self):
        return {layer.name: layer for layer in self._pipeline_layers}

    def build_variables(self, key, inputs, *unused):
        spec = inputs
        params, state = {}, {}
        for i, layer in enumerate(self._pipeline_layers):
            v = layer.init(host_prng.fold_in(key, i), spec)
            if v["params"]:
                params[layer.name] = v["params"]
            if v["state"]:
                state[layer.name] = v["state"]
            spec = jax.eval_shape(lambda vv, x, layer=layer: layer.apply(vv, x)[0], v, spec)
        return params, state

    def forward(self, params, state, inputs, training=False, rng=None, **kwargs):
        x, new_state = inputs, dict(state)
        for i, layer in enumerate(self._pipeline_layers):
            sub = {"params": params.get(layer.name, {}), "state": state.get(layer.name, {})}
            key = host_prng.fold_in(rng, i) if rng is not None else None
            x, s = layer.apply(sub, x, training=training, rng=key)
            if s:
                new_state[layer.name] = s
        return x, new_state

    def get_config(self):
        return {"layers": [serialization_lib.serialize_keras_object(layer)
                           for layer in self._pipeline_layers],
                "name": self.name}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        layers = config.get("layers")
        if not isinstance(layers, (list, tuple)):
            raise ValueError(
                "Pipeline: the config must contain a `layers` key with a list of serialized "
                f"layers. Received config with layers={layers!r}.")
        config = {**config, "layers": [layers_lib.deserialize(c, custom_objects) for c in layers]}
        return cls(**config)
