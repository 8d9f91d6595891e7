"""`kerax.optimizers`: Keras 3's optimizers, numerically matched, built on optax."""

import optax

from kerax import _exports
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
from kerax.serialization import registry

# Optimizers that `get("name")` builds with default arguments (Keras: lowercased names).
ALIASES = {c.__name__.lower(): c for c in (
    SGD, Adam, AdamW, RMSprop, Adagrad, Adadelta, Adamax, Adafactor, Nadam, Ftrl, Lion,
    Lamb, Muon, ScheduleFreeAdamW)}
ALL = {c.__name__: c for c in (
    Optimizer, LossScaleOptimizer, MultiOptimizer, OptimizerMap, *ALIASES.values())}


_REGISTRY = registry.ObjectRegistry(
    "optimizer", {**ALL, **ALIASES}, case_insensitive=True,
    accept=lambda obj: isinstance(obj, Optimizer),
    expected="a name such as 'adam', a kerax optimizer, a config dict, or an "
    "`optax.GradientTransformation`",
)


def serialize(optimizer):
    """Serializes an optimizer into Keras 3's dict format.

    Example:
    >>> serialize(SGD())["class_name"]
    'SGD'
    """
    return _REGISTRY.serialize(optimizer)


def deserialize(config, custom_objects=None):
    """Builds an optimizer from `serialize`'s output (or a Keras 3 config dict).

    Class names match case-insensitively, as in Keras (`"adam"`, `"Adam"`).

    Example:
    >>> type(deserialize(serialize(Adam()))).__name__
    'Adam'
    """
    return _REGISTRY.deserialize(config, custom_objects)


def get(identifier):
    """Resolves an optimizer: a Keras name, an instance, a config dict, or an optax transform.

    Example:
    >>> type(get("adam")).__name__
    'Adam'
    >>> get(None) is None
    True
    """
    if isinstance(identifier, optax.GradientTransformation):
        return OptaxOptimizer(identifier)
    return _REGISTRY.get(identifier)


__all__ = _exports.public_names(globals())
