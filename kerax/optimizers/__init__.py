"""`kerax.optimizers`: Keras 3's optimizers, numerically matched, built on optax."""

import optax

from kerax import errors
from kerax.optimizers import schedules
from kerax.optimizers.adagrad import Adagrad
from kerax.optimizers.adam import Adam, AdamW
from kerax.optimizers.base_optimizer import OptaxOptimizer, Optimizer
from kerax.optimizers.rmsprop import RMSprop
from kerax.optimizers.sgd import SGD

ALL = {c.__name__: c for c in (Optimizer, SGD, Adam, AdamW, RMSprop, Adagrad)}
ALIASES = {"sgd": SGD, "adam": Adam, "adamw": AdamW, "rmsprop": RMSprop,
           "adagrad": Adagrad}


def serialize(optimizer):
    """Serializes an optimizer into Keras 3's dict format.

    Example:
    >>> serialize(SGD())["class_name"]
    'SGD'
    """
    from kerax.saving import serialization_lib

    return serialization_lib.serialize_keras_object(optimizer)


def deserialize(config, custom_objects=None):
    """Builds an optimizer from `serialize`'s output (or a Keras 3 config dict).

    Example:
    >>> type(deserialize(serialize(Adam()))).__name__
    'Adam'
    """
    from kerax.saving import serialization_lib

    return serialization_lib.deserialize_keras_object(
        config, module_objects={**ALL, **ALIASES}, custom_objects=custom_objects
    )


def get(identifier):
    """Resolves an optimizer: a Keras name, an instance, a config dict, or an optax transform.

    Example:
    >>> type(get("adam")).__name__
    'Adam'
    """
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, optax.GradientTransformation):
        return OptaxOptimizer(identifier)
    if isinstance(identifier, str):
        cls = ALIASES.get(identifier.lower()) or ALL.get(identifier)
        if cls is None or cls is Optimizer:
            raise errors.unknown_identifier("optimizer", identifier, list(ALIASES))
        return cls()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    raise TypeError(
        f"Could not interpret optimizer identifier: {identifier!r}. Pass a name such as "
        "'adam', a kerax optimizer, or an `optax.GradientTransformation`."
    )
