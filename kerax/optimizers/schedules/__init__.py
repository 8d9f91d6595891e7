"""`kerax.optimizers.schedules`: Keras 3's learning-rate schedules (jax-traceable)."""

from kerax import _exports
from kerax.optimizers.schedules.learning_rate_schedule import (
    CosineDecay,
    CosineDecayRestarts,
    ExponentialDecay,
    InverseTimeDecay,
    LearningRateSchedule,
    PiecewiseConstantDecay,
    PolynomialDecay,
)
from kerax.serialization import registry

ALL = {c.__name__: c for c in (
    LearningRateSchedule, ExponentialDecay, PiecewiseConstantDecay, PolynomialDecay,
    InverseTimeDecay, CosineDecay, CosineDecayRestarts)}


_REGISTRY = registry.ObjectRegistry("learning rate schedule", ALL)


def serialize(learning_rate_schedule):
    """Serializes a schedule into Keras 3's dict format.

    Example:
    >>> serialize(ExponentialDecay(0.1, 10, 0.9))["class_name"]
    'ExponentialDecay'
    """
    return _REGISTRY.serialize(learning_rate_schedule)


def deserialize(config, custom_objects=None):
    """Builds a schedule from `serialize`'s output.

    Example:
    >>> s = deserialize(serialize(ExponentialDecay(0.1, 10, 0.9)))
    >>> s.decay_steps
    10
    """
    return _REGISTRY.deserialize(config, custom_objects)


__all__ = _exports.public_names(globals())
