"""`kerax.optimizers`: Keras 3's optimizers, numerically matched, built on optax."""

import optax

from kerax import errors
from kerax.optimizers import schedules
from kerax.optimizers.adadelta import Adadelta
from kerax.optimizers.adafactor import Adafactor
from kerax.optimizers.adagrad import Adagrad
from kerax.optimizers.adam import Adam, AdamW
from kerax.optimizers.adamax import Adamax
from kerax.optimizers.base_optimizer import OptaxOptimizer, Optimizer
from kerax.optimizers.ftrl import Ftrl
from kerax.optimizers.lamb import Lamb
from kerax.optimizers.lion import Lion
from kerax.optimizers.loss_scale_optimizer import LossScaleOptimizer
from kerax.optimizers.multi_optimizer import MultiOptimizer, OptimizerMap
from kerax.optimizers.muon import Muon
from kerax.optimizers.nadam import Nadam
from kerax.optimizers.rmsprop import RMSprop
from kerax.optimizers.schedule_free_adamw import ScheduleFreeAdamW
from kerax.optimizers.sgd import SGD

# Optimizers that `get("name")` builds with default arguments (Keras: lowercased names).
ALIASES = {c.__name__.lower(): c for c in (
    SGD, Adam, AdamW, RMSprop, Adagrad, Adadelta, Adamax, Adafactor, Nadam, Ftrl, Lion,
    Lamb, Muon, ScheduleFreeAdamW)}
ALL = {c.__name__: c for c in (
    Optimizer, LossScaleOptimizer, MultiOptimizer, OptimizerMap, *ALIASES.values())}


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
