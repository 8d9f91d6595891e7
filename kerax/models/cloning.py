"""`clone_model` and `model_from_json`: new models with the same structure, fresh weights."""

import json

from kerax.models.functional import Functional
from kerax.models.model import Model
from kerax.models.sequential import Sequential
from kerax.serialization import serialization_lib


def _model_objects():
    return {"Functional": Functional, "Sequential": Sequential, "Model": Model}


def model_from_json(json_string, custom_objects=None):
    """Builds a model from `model.to_json()` (new, freshly initialized weights).

    Example:
    >>> import kerax
    >>> x = kerax.Input((3,))
    >>> model = kerax.Model(x, kerax.layers.Dense(2)(x))
    >>> clone = kerax.models.model_from_json(model.to_json())
    >>> [w.shape for w in clone.weights] == [w.shape for w in model.weights]
    True
    """
    config = json.loads(json_string)
    objects = {**_model_objects(), **(custom_objects or {})}
    return serialization_lib.deserialize_keras_object(config, module_objects=objects,
                                                      custom_objects=custom_objects)


def clone_model(model, input_tensors=None, clone_function=None, call_function=None,
                recursive=False, **kwargs):
    """A new model with `model`'s structure and newly initialized weights (Keras' semantics).

    Functional and Sequential models are rebuilt from their config (each layer through
    `clone_function`, default `layer.__class__.from_config(layer.get_config())`).

    Example:
    >>> import kerax
    >>> model = kerax.Sequential([kerax.Input((3,)), kerax.layers.Dense(2)])
    >>> clone = clone_model(model)
    >>> clone is not model and len(clone.weights) == 2
    True
    """
    if input_tensors is not None or call_function is not None:
        raise NotImplementedError(
            "kerax's `clone_model` does not support `input_tensors` or `call_function` yet; "
            "clone the model, then call it on new inputs."
        )
    if clone_function is not None and isinstance(model, Sequential):
        layers = [clone_function(layer) for layer in model.layers]
        clone = Sequential(([model._input_layer.output] if model._input_layer else []) + layers,
                           name=model.name)
        return clone
    if isinstance(model, (Functional, Sequential)):
        return type(model).from_config(model.get_config())
    return type(model).from_config(model.get_config())
