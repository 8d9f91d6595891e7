"""The parts of a `FeatureSpace` that Keras serializes: `Feature`, `Cross`, the
`TFDIdentity` preprocessor of plain float features and the `TFDConcat` of encoded features
(a node of Keras' FeatureSpace models), named in files as Keras names them (module
`keras.src.layers.preprocessing.feature_space`, registered by class name)."""

import jax.numpy as jnp

from kerax.layers import Layer
from kerax.serialization import serialization_lib

_KERAS_MODULE = "keras.src.layers.preprocessing.feature_space"


def serialize(obj):
    """Keras' dict for a FeatureSpace-private object (`Feature`, `Cross`, `TFDIdentity`).

    Example:
    >>> serialize(Cross(("a", "b"), 4))["module"]
    'keras.src.layers.preprocessing.feature_space'
    """
    out = serialization_lib.serialize_keras_object(obj)
    return {**out, "module": _KERAS_MODULE, "registered_name": type(obj).__name__}


def deserialize(config):
    return serialization_lib.deserialize_keras_object(config, module_objects=_OBJECTS)


class Cross:
    """A cross of features hashed into `crossing_dim` bins (`FeatureSpace.cross`)."""

    def __init__(self, feature_names, crossing_dim, output_mode="one_hot"):
        if output_mode not in {"int", "one_hot"}:
            raise ValueError("Invalid value for argument `output_mode`. Expected one of "
                             f"{{'int', 'one_hot'}}. Received: output_mode={output_mode}")
        self.feature_names = tuple(feature_names)
        self.crossing_dim, self.output_mode = crossing_dim, output_mode

    @property
    def name(self):
        return "_X_".join(self.feature_names)

    def get_config(self):
        return {"feature_names": self.feature_names, "crossing_dim": self.crossing_dim,
                "output_mode": self.output_mode}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class Feature:
    """A feature: its input dtype, its preprocessing layer and how it is encoded."""

    def __init__(self, dtype, preprocessor, output_mode):
        if output_mode not in {"int", "one_hot", "float"}:
            raise ValueError("Invalid value for argument `output_mode`. Expected one of "
                             f"{{'int', 'one_hot', 'float'}}. Received: "
                             f"output_mode={output_mode}")
        self.dtype = dtype
        self.preprocessor = deserialize(preprocessor) if isinstance(preprocessor, dict) \
            else preprocessor
        self.output_mode = output_mode

    def get_config(self):
        pre = self.preprocessor
        return {"dtype": self.dtype, "output_mode": self.output_mode,
                "preprocessor": serialize(pre) if isinstance(pre, TFDIdentity)
                else serialization_lib.serialize_keras_object(pre)}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class TFDIdentity(Layer):
    """The preprocessor of a plain `"float"` feature: returns its input."""

    _keras_module = _KERAS_MODULE

    def forward(self, params, state, inputs, training=False, rng=None, **kwargs):
        return jnp.asarray(inputs, self.compute_dtype), state


class TFDConcat(Layer):
    """Keras' concatenation of a FeatureSpace's encoded features (`output_mode="concat"`):
    a node of the graph Keras' `get_encoded_features()` builds, so of its files."""

    _keras_module = _KERAS_MODULE

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis

    def forward(self, params, state, inputs, training=False, rng=None, **kwargs):
        return jnp.concatenate([jnp.asarray(x) for x in inputs], axis=self.axis), state

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


_OBJECTS = {"Feature": Feature, "Cross": Cross, "TFDIdentity": TFDIdentity,
            "TFDConcat": TFDConcat}
