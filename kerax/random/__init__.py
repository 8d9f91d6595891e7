"""`kerax.random`: Keras 3's random functions and `SeedGenerator`, over `jax.random`."""

from kerax import _exports
from kerax.random.random import (  # noqa: F401
    beta,
    binomial,
    categorical,
    dropout,
    gamma,
    normal,
    randint,
    shuffle,
    truncated_normal,
    uniform,
)
from kerax.random.seed_generator import SeedGenerator, draw_seed, next_seed  # noqa: F401

__all__ = _exports.public_names(globals())
