"""`kerax.optimizers.schedules`: Keras 3's learning-rate schedules (jax-traceable)."""

from kerax.optimizers.schedules.learning_rate_schedule import (
    CosineDecay,
    CosineDecayRestarts,
    ExponentialDecay,
    InverseTimeDecay,
    LearningRateSchedule,
    PiecewiseConstantDecay,
    PolynomialDecay,
)

ALL = {c.__name__: c for c in (
    LearningRateSchedule, ExponentialDecay, PiecewiseConstantDecay, PolynomialDecay,
    InverseTimeDecay, CosineDecay, CosineDecayRestarts)}


def serialize(learning_rate_schedule):
    """Serializes a schedule into Keras 3's dict format.

    Example:
    >>> serialize(ExponentialDecay(0.1, 10, 0.9))["class_name"]
    'ExponentialDecay'
    """
    from kerax.saving import serialization_lib

    return serialization_lib.serialize_keras_object(learning_rate_schedule)


def deserialize(config, custom_objects=None):
    """Builds a schedule from `serialize`'s output.

    Example:
    >>> s = deserialize(serialize(ExponentialDecay(0.1, 10, 0.9)))
    >>> s.decay_steps
    10
    """
    from kerax.saving import serialization_lib

    return serialization_lib.deserialize_keras_object(
        config, module_objects=ALL, custom_objects=custom_objects
    )
