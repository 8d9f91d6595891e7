"""`clone_model` and `model_from_json`: new models with the same structure, fresh weights."""

import json

from kerax.models.functional import Functional
from kerax.models.model import Model
from kerax.models.sequential import Sequential
from kerax.saving import load_limits
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

    A string that is not one model's JSON raises a `ValueError` saying what is wrong:
    >>> kerax.models.model_from_json("[1, 2]")
    Traceback (most recent call last):
    ...
    ValueError: model_from_json expects a JSON object with a 'class_name' and a 'config'...
    """
    config = _parse(json_string)
    objects = {**_model_objects(), **(custom_objects or {})}
    return serialization_lib.deserialize_keras_object(config, module_objects=objects,
                                                      custom_objects=custom_objects)


def _parse(json_string):
    fix = "Pass the string `model.to_json()` returned."
    try:
        config = json.loads(json_string)
    except RecursionError:
        raise ValueError(f"model_from_json: the JSON is nested deeper than Python can "
                         f"parse; no model config nests so deep. {fix}") from None
    except (TypeError, ValueError) as e:
        raise ValueError(f"model_from_json: the string is not valid JSON ({e}). {fix}") from e
    if not isinstance(config, dict) or not isinstance(config.get("class_name"), str):
        kind = type(config).__name__ if not isinstance(config, dict) else "object without "\
            "a string 'class_name'"
        raise ValueError(f"model_from_json expects a JSON object with a 'class_name' and a "
                         f"'config', as `model.to_json()` writes; it received a JSON {kind}. "
                         f"{fix}")
    depth_error = None
    try:
        load_limits.check_depth(config, "model_from_json", "the JSON")
    except Exception as e:  # CheckpointCorruptedError: reworded for a string
        depth_error = e
    if depth_error is not None:
        raise ValueError(f"model_from_json: the JSON nests lists and objects deeper than "
                         f"{load_limits.MAX_DEPTH} levels; no model config does. {fix}")
    return config


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
