"""`kerax.metrics`: Keras 3's metrics, pure (`init`/`update`/`result`) under Keras' shell."""

from kerax import errors
from kerax.metrics.accuracy_metrics import (  # noqa: F401
    SparseCategoricalAccuracy,
    sparse_categorical_accuracy,
)
from kerax.metrics.metric import Mean, MeanMetricWrapper, Metric  # noqa: F401

ALL = {c.__name__: c for c in (Mean, MeanMetricWrapper, SparseCategoricalAccuracy)}
FUNCTIONS = {f.__name__: f for f in (sparse_categorical_accuracy,)}


def serialize(metric):
    from kerax.saving import serialization_lib

    return serialization_lib.serialize_keras_object(metric)


def deserialize(config, custom_objects=None):
    from kerax.saving import serialization_lib

    return serialization_lib.deserialize_keras_object(
        config, module_objects={**ALL, **FUNCTIONS}, custom_objects=custom_objects
    )


def get(identifier):
    """Resolves a metric: a Keras name, a `Metric` instance, a config dict, or a callable.

    Note: `"accuracy"`/`"acc"` are resolved by `compile` from the loss and output shape,
    as Keras does; `get` alone cannot know which accuracy is meant.
    """
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        if identifier in ALL:
            return ALL[identifier]()
        if identifier in FUNCTIONS:
            return FUNCTIONS[identifier]
        raise errors.unknown_identifier("metric", identifier, list(ALL) + list(FUNCTIONS))
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise TypeError(f"Could not interpret metric identifier: {identifier!r}")
