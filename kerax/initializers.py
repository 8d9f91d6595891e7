"""`kerax.initializers`: Keras 3's initializers with Keras' formulas.

CONTRACT (used by layers): an initializer is called as `init(shape, dtype=None, key=None)`
and returns a `jax.Array`. Layers always pass `key`; without one, the initializer's
`seed` (or the global key source) is used, as in Keras. `get(identifier)` accepts a Keras
name string, a class instance, a config dict or a callable.
"""

import math

import jax
import jax.numpy as jnp

from kerax import errors
from kerax.backend import config as _config
from kerax.backend.random_state import key_from_seed


def _dtype(dtype):
    return jnp.dtype(dtype or _config.floatx())


def compute_fans(shape):
    """Keras' `(fan_in, fan_out)` for a kernel shape (conv kernels: spatial dims first)."""
    shape = tuple(shape)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


class Initializer:
    """Base class: subclasses implement `__call__(shape, dtype=None, key=None)`."""

    _keras_module = "keras.initializers"

    def __call__(self, shape, dtype=None, key=None):
        raise NotImplementedError

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def clone(self):
        return self.__class__.from_config(self.get_config())


class Zeros(Initializer):
    """All zeros.

    Example:
    >>> Zeros()((2,)).tolist()
    [0.0, 0.0]
    """

    def __call__(self, shape, dtype=None, key=None):
        return jnp.zeros(shape, _dtype(dtype))


class Ones(Initializer):
    """All ones.

    Example:
    >>> Ones()((2,)).tolist()
    [1.0, 1.0]
    """

    def __call__(self, shape, dtype=None, key=None):
        return jnp.ones(shape, _dtype(dtype))


class VarianceScaling(Initializer):
    """Samples with variance `scale / n`, `n` from `mode` ("fan_in", "fan_out", "fan_avg").

    Example:
    >>> VarianceScaling(seed=0)((3, 4)).shape
    (3, 4)
    """

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        if scale <= 0.0:
            raise ValueError(f"`scale` must be positive. Received: scale={scale}")
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"Invalid `mode` argument: {mode!r}")
        distribution = distribution.lower()
        if distribution == "normal":
            distribution = "truncated_normal"
        if distribution not in ("uniform", "truncated_normal", "untruncated_normal"):
            raise ValueError(f"Invalid `distribution` argument: {distribution!r}")
        self.scale, self.mode, self.distribution, self.seed = scale, mode, distribution, seed

    def __call__(self, shape, dtype=None, key=None):
        key = key_from_seed(self.seed) if key is None else key
        dtype = _dtype(dtype)
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        scale = self.scale / max(1.0, n)
        if self.distribution == "truncated_normal":
            stddev = math.sqrt(scale) / 0.87962566103423978
            return stddev * jax.random.truncated_normal(key, -2.0, 2.0, shape, dtype)
        if self.distribution == "untruncated_normal":
            return math.sqrt(scale) * jax.random.normal(key, shape, dtype)
        limit = math.sqrt(3.0 * scale)
        return jax.random.uniform(key, shape, dtype, -limit, limit)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode,
                "distribution": self.distribution, "seed": self.seed}


class GlorotUniform(VarianceScaling):
    """Uniform in `[-limit, limit]`, `limit = sqrt(6 / (fan_in + fan_out))`.

    Example:
    >>> GlorotUniform(seed=0)((3, 4)).shape
    (3, 4)
    """

    def __init__(self, seed=None):
        super().__init__(scale=1.0, mode="fan_avg", distribution="uniform", seed=seed)

    def get_config(self):
        return {"seed": self.seed}


ALL = {"Zeros": Zeros, "Ones": Ones, "VarianceScaling": VarianceScaling,
       "GlorotUniform": GlorotUniform}
ALIASES = {"zeros": Zeros, "ones": Ones, "variance_scaling": VarianceScaling,
           "glorot_uniform": GlorotUniform}


def serialize(initializer):
    from kerax.saving import serialization_lib

    return serialization_lib.serialize_keras_object(initializer)


def deserialize(config, custom_objects=None):
    from kerax.saving import serialization_lib

    return serialization_lib.deserialize_keras_object(
        config, module_objects={**ALL, **ALIASES}, custom_objects=custom_objects
    )


def get(identifier):
    """Resolves an initializer: a Keras name, an instance, a class, a config dict, or a callable.

    Example:
    >>> isinstance(get("glorot_uniform"), GlorotUniform)
    True
    """
    if identifier is None:
        return None
    if isinstance(identifier, str):
        cls = ALIASES.get(identifier) or ALL.get(identifier)
        if cls is None:
            raise errors.unknown_identifier("initializer", identifier, list(ALIASES) + list(ALL))
        return cls()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Initializer):
        return identifier()
    if callable(identifier):
        return identifier
    raise TypeError(
        f"Could not interpret initializer identifier: {identifier!r}. Pass a string such as "
        "'glorot_uniform', an initializer instance, or a callable `fn(shape, dtype)`."
    )
