"""`kerax.regularizers`: Keras 3's weight penalties, as pure functions of a weight.

A regularizer is called as `reg(w) -> scalar` and is jit-able; layers add its value to the
loss. `get(identifier)` accepts None, a Keras name ("l1", "l2", "l1l2",
"orthogonal_regularizer", or a class name), an instance, a class, a config dict or a
callable.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np

from kerax.backend import config as _config
from kerax.serialization import registry


def _non_negative(value, name):
    if not isinstance(value, (int, float)) or math.isinf(value) or math.isnan(value) or value < 0:
        raise ValueError(
            f"Invalid value for argument `{name}`: expected a non-negative float. "
            f"Received: {name}={value!r}"
        )
    return float(value)


def _as_float32(value):
    # Keras keeps these factors as float32 tensors, so its configs hold float32 values.
    return float(np.float32(value))


class Regularizer:
    """Base class: subclasses implement `__call__(x) -> scalar` and `get_config()`.

    Example:
    >>> import jax.numpy as jnp
    >>> class Sum(Regularizer):
    ...     def __call__(self, x):
    ...         return jnp.sum(x)
    ...     def get_config(self):
    ...         return {}
    >>> float(Sum()(jnp.ones((2, 2))))
    4.0
    """

    _keras_module = "keras.regularizers"

    def __call__(self, x):
        return 0.0

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def get_config(self):
        raise NotImplementedError(
            f"{type(self).__name__} does not implement `get_config()`; define it to return "
            "the constructor arguments so the regularizer can be saved."
        )


class L1L2(Regularizer):
    """`l1 * sum(abs(x)) + l2 * sum(square(x))`.

    Example:
    >>> import jax.numpy as jnp
    >>> float(L1L2(l1=0.5, l2=0.25)(jnp.array([1.0, -2.0])))
    2.75
    """

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = _non_negative(0.0 if l1 is None else l1, "l1")
        self.l2 = _non_negative(0.0 if l2 is None else l2, "l2")

    def __call__(self, x):
        x = jnp.asarray(x)
        penalty = jnp.zeros((), x.dtype)
        if self.l1 != 0.0:
            penalty += jnp.asarray(self.l1, x.dtype) * jnp.sum(jnp.abs(x))
        if self.l2 != 0.0:
            penalty += jnp.asarray(self.l2, x.dtype) * jnp.sum(jnp.square(x))
        return penalty

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(Regularizer):
    """`l1 * sum(abs(x))`.

    Example:
    >>> import jax.numpy as jnp
    >>> float(L1(0.5)(jnp.array([1.0, -2.0])))
    1.5
    """

    def __init__(self, l1=0.01):
        self.l1 = _as_float32(_non_negative(0.01 if l1 is None else l1, "l1"))

    def __call__(self, x):
        x = jnp.asarray(x)
        return jnp.asarray(self.l1, x.dtype) * jnp.sum(jnp.abs(x))

    def get_config(self):
        return {"l1": self.l1}


class L2(Regularizer):
    """`l2 * sum(square(x))`.

    Example:
    >>> import jax.numpy as jnp
    >>> float(L2(0.5)(jnp.array([1.0, -2.0])))
    2.5
    """

    def __init__(self, l2=0.01):
        self.l2 = _non_negative(0.01 if l2 is None else l2, "l2")

    def __call__(self, x):
        x = jnp.asarray(x)
        return jnp.asarray(self.l2, x.dtype) * jnp.sum(jnp.square(x))

    def get_config(self):
        return {"l2": self.l2}


def _l2_normalize(x, axis):
    # As Keras' `ops.normalize`: `x * min(rsqrt(sum(x**2)), 1 / epsilon)`.
    inv_norm = jax.lax.rsqrt(jnp.sum(jnp.square(x), axis=axis, keepdims=True))
    return x * jnp.minimum(inv_norm, 1.0 / _config.epsilon())


class OrthogonalRegularizer(Regularizer):
    """Penalizes non-orthogonal rows (`mode="rows"`) or columns of a 2-D weight.

    The value is `factor * mean(abs(dot products of distinct normalized vectors)) / 2`.

    Raises:
        ValueError: for an unknown `mode`, or when called on a weight that is not 2-D.

    Example:
    >>> import jax.numpy as jnp
    >>> float(OrthogonalRegularizer(factor=1.0)(jnp.eye(3)))
    0.0
    """

    def __init__(self, factor=0.01, mode="rows"):
        self.factor = _as_float32(_non_negative(factor, "factor"))
        if mode not in ("rows", "columns"):
            raise ValueError(
                "Invalid value for argument `mode`: expected 'rows' or 'columns'. "
                f"Received: mode={mode!r}"
            )
        self.mode = mode

    def __call__(self, inputs):
        inputs = jnp.asarray(inputs)
        if inputs.ndim != 2:
            raise ValueError(
                "OrthogonalRegularizer needs a 2-D weight (e.g. a Dense kernel). "
                f"Received: inputs.shape={inputs.shape}"
            )
        if self.mode == "rows":
            inputs = _l2_normalize(inputs, axis=1)
            product, size = inputs @ inputs.T, inputs.shape[0]
        else:
            inputs = _l2_normalize(inputs, axis=0)
            product, size = inputs.T @ inputs, inputs.shape[1]
        off_diagonal = product * (1.0 - jnp.eye(size, dtype=inputs.dtype))
        num_pairs = size * (size - 1.0) / 2.0
        return jnp.float32(self.factor) * 0.5 * jnp.sum(jnp.abs(off_diagonal)) / num_pairs

    def get_config(self):
        return {"factor": self.factor, "mode": self.mode}


# Keras' lower-case public names for the same classes.
l1, l2, l1_l2, orthogonal_regularizer = L1, L2, L1L2, OrthogonalRegularizer

_CLASSES = (Regularizer, L1, L2, L1L2, OrthogonalRegularizer)
ALL = {cls.__name__: cls for cls in _CLASSES}
ALIASES = {"regularizer": Regularizer, "l1": L1, "l2": L2, "l1l2": L1L2, "l1_l2": L1L2,
           "orthogonal_regularizer": OrthogonalRegularizer}


_REGISTRY = registry.ObjectRegistry(
    "regularizer", {**ALL, **ALIASES},
    expected="a name such as 'l2', a `kerax.regularizers.Regularizer`, a config dict, or "
    "a callable `fn(weight) -> scalar`",
)


def serialize(regularizer):
    """Keras 3's config dict for a regularizer.

    Example:
    >>> serialize(L2(0.1))["config"]
    {'l2': 0.1}
    """
    return _REGISTRY.serialize(regularizer)


def deserialize(config, custom_objects=None):
    """Builds a regularizer from `serialize`'s dict (or a name).

    Example:
    >>> deserialize(serialize(L1L2(l1=0.1))).l1
    0.1
    """
    return _REGISTRY.deserialize(config, custom_objects)


def get(identifier):
    """Resolves a regularizer: None, a name, an instance, a class, a config dict or a callable.

    Raises:
        UnknownIdentifierError: for a string that names no regularizer (a `ValueError`).
        ValueError: for anything else that is not callable.

    Example:
    >>> isinstance(get("l2"), L2)
    True
    >>> get(None) is None
    True
    """
    return _REGISTRY.get(identifier)


# __all__ is generated by `python -m kerax._exports` (tests check it is current).
__all__ = [
    "ALIASES", "ALL", "L1", "L1L2", "L2", "OrthogonalRegularizer", "Regularizer", "deserialize",
    "get", "l1", "l1_l2", "l2", "orthogonal_regularizer", "serialize",
]
