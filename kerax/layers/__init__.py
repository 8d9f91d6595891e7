"""`kerax.layers`: Keras 3's layers, each a configuration plus pure `init` / `apply`."""

from kerax import _exports
from kerax.layers.activations.activation import Activation
from kerax.layers.core.dense import Dense
from kerax.layers.core.input_layer import Input, InputLayer
from kerax.layers.input_spec import InputSpec
from kerax.layers.layer import Layer
from kerax.layers.core import op_layer as _op_layer  # noqa: F401  (ops on KerasTensors)
from kerax.layers.regularization.dropout import Dropout
from kerax.layers.reshaping.flatten import Flatten
from kerax.layers.reshaping.reshape import Reshape
from kerax.serialization import serialization_lib


def _builtin_layers():
    found = {n: v for n, v in globals().items() if isinstance(v, type) and issubclass(v, Layer)}
    # also by class name, for classes exported under another name (aliases)
    found.update({cls.__name__: cls for cls in list(found.values())
                  if cls.__name__ not in found})
    return found


def serialize(layer):
    """Keras 3's dict format for a layer (with its build config)."""
    config = serialization_lib.serialize_keras_object(layer)
    build = layer.get_build_config()
    if build is not None:
        config["build_config"] = build
    return config


def deserialize(config, custom_objects=None):
    """Builds a layer from Keras 3's dict format."""
    return serialization_lib.deserialize_keras_object(
        config, module_objects=_builtin_layers(), custom_objects=custom_objects
    )
from kerax.layers._catalog_norm import *  # noqa: F401,F403
from kerax.layers._catalog_conv import *  # noqa: F401,F403
from kerax.layers._catalog_merging import *  # noqa: F401,F403
from kerax.layers._catalog_rnn import *  # noqa: F401,F403
from kerax.layers._catalog_jax import *  # noqa: F401,F403
from kerax.layers._catalog_augment import *  # noqa: F401,F403
from kerax.layers._catalog_adaptive import *  # noqa: F401,F403
from kerax.layers._catalog_color import *  # noqa: F401,F403
from kerax.layers._catalog_wrappers import *  # noqa: F401,F403
from kerax.layers._catalog_augment_more import *  # noqa: F401,F403
from kerax.layers._catalog_audio import *  # noqa: F401,F403
from kerax.layers._catalog_text import *  # noqa: F401,F403

__all__ = _exports.public_names(globals())
