"""`kerax.constraints`: Keras 3's weight constraints, as pure functions `w -> w`.

The optimizer applies a variable's constraint after each update. `get(identifier)`
accepts None, a Keras name ("max_norm", "min_max_norm", "non_neg", "unit_norm", or a
class name), an instance, a class, a config dict or a callable.
"""

import jax.numpy as jnp

from kerax.backend import config as _config
from kerax.serialization import registry


def _norms(w, axis):
    return jnp.sqrt(jnp.sum(jnp.square(w), axis=axis, keepdims=True))


class Constraint:
    """Base class: subclasses implement `__call__(w) -> w` (the base returns `w` unchanged).

    Example:
    >>> import jax.numpy as jnp
    >>> class Clip(Constraint):
    ...     def __call__(self, w):
    ...         return jnp.clip(w, -1.0, 1.0)
    >>> Clip()(jnp.array([-3.0, 0.5])).tolist()
    [-1.0, 0.5]
    """

    _keras_module = "keras.constraints"

    def __call__(self, w):
        return w

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class MaxNorm(Constraint):
    """Rescales the weight vectors along `axis` whose L2 norm exceeds `max_value`.

    `axis=0` suits a Dense kernel `(input_dim, units)`; use `axis=[0, 1, 2]` for a
    Conv2D kernel `(rows, cols, in_channels, filters)` in "channels_last".

    Example:
    >>> import jax.numpy as jnp
    >>> round(float(jnp.linalg.norm(MaxNorm(2.0)(jnp.array([[3.0], [4.0]])))), 4)
    2.0
    """

    def __init__(self, max_value=2, axis=0):
        self.max_value, self.axis = max_value, axis

    def __call__(self, w):
        w = jnp.asarray(w)
        norms = _norms(w, self.axis)
        desired = jnp.clip(norms, 0, self.max_value)
        return w.astype(norms.dtype) * (desired / (_config.epsilon() + norms))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    """Sets negative weights to zero.

    Example:
    >>> import jax.numpy as jnp
    >>> NonNeg()(jnp.array([-1.0, 2.0])).tolist()
    [0.0, 2.0]
    """

    def __call__(self, w):
        return jnp.maximum(jnp.asarray(w), 0)


class UnitNorm(Constraint):
    """Rescales the weight vectors along `axis` to unit L2 norm.

    Example:
    >>> import jax.numpy as jnp
    >>> [round(v, 4) for v in UnitNorm()(jnp.array([3.0, 4.0])).tolist()]
    [0.6, 0.8]
    """

    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, w):
        w = jnp.asarray(w)
        norms = _norms(w, self.axis)
        return w.astype(norms.dtype) / (_config.epsilon() + norms)

    def get_config(self):
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """Moves the L2 norm of the weight vectors along `axis` into `[min_value, max_value]`.

    The new norm is `rate * clip(norm, min_value, max_value) + (1 - rate) * norm`, so
    `rate=1.0` enforces the bounds strictly and smaller rates move toward them.

    Example:
    >>> import jax.numpy as jnp
    >>> round(float(jnp.linalg.norm(MinMaxNorm(1.0, 2.0)(jnp.array([0.3, 0.4])))), 4)
    1.0
    """

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value, self.max_value, self.rate, self.axis = min_value, max_value, rate, axis

    def __call__(self, w):
        w = jnp.asarray(w)
        norms = _norms(w, self.axis)
        desired = (self.rate * jnp.clip(norms, self.min_value, self.max_value)
                   + (1 - self.rate) * norms)
        return w.astype(norms.dtype) * (desired / (_config.epsilon() + norms))

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate,
                "axis": self.axis}


# Keras' lower-case public names for the same classes.
max_norm, min_max_norm, non_neg, unit_norm = MaxNorm, MinMaxNorm, NonNeg, UnitNorm

_CLASSES = (Constraint, MaxNorm, MinMaxNorm, NonNeg, UnitNorm)
ALL = {cls.__name__: cls for cls in _CLASSES}
ALIASES = {"constraint": Constraint, "max_norm": MaxNorm, "min_max_norm": MinMaxNorm,
           "non_neg": NonNeg, "unit_norm": UnitNorm}


_REGISTRY = registry.ObjectRegistry(
    "constraint", {**ALL, **ALIASES},
    expected="a name such as 'non_neg', a `kerax.constraints.Constraint`, a config dict, "
    "or a callable `fn(w) -> w`",
)


def serialize(constraint):
    """Keras 3's config dict for a constraint.

    Example:
    >>> serialize(MaxNorm(3))["config"]
    {'max_value': 3, 'axis': 0}
    """
    return _REGISTRY.serialize(constraint)


def deserialize(config, custom_objects=None):
    """Builds a constraint from `serialize`'s dict (or a name).

    Example:
    >>> deserialize(serialize(UnitNorm(axis=1))).axis
    1
    """
    return _REGISTRY.deserialize(config, custom_objects)


def get(identifier):
    """Resolves a constraint: None, a name, an instance, a class, a config dict or a callable.

    Raises:
        UnknownIdentifierError: for a string that names no constraint (a `ValueError`).
        ValueError: for anything else that is not callable.

    Example:
    >>> isinstance(get("non_neg"), NonNeg)
    True
    >>> get(None) is None
    True
    """
    return _REGISTRY.get(identifier)


# __all__ is generated by `python -m kerax._exports` (tests check it is current).
__all__ = [
    "ALIASES", "ALL", "Constraint", "MaxNorm", "MinMaxNorm", "NonNeg", "UnitNorm",
    "deserialize", "get", "max_norm", "min_max_norm", "non_neg", "serialize", "unit_norm",
]
