"""Random draws with Keras 3's signatures, over `jax.random`.

`seed` may be an int, a `SeedGenerator`, a raw JAX key, or None (then the global key
source of `kerax.utils.set_random_seed` is used).
"""

import jax
import jax.numpy as jnp

from kerax.backend import config
from kerax.random.seed_generator import draw_seed


def _float_dtype(dtype, fn):
    dtype = dtype or config.floatx()
    if not jnp.issubdtype(jnp.dtype(dtype), jnp.floating):
        raise ValueError(
            f"`kerax.random.{fn}` requires a floating point `dtype`. Received: dtype={dtype}"
        )
    return dtype


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Draws from a normal distribution.

    Example:
    >>> normal((2, 3), seed=1).shape
    (2, 3)
    """
    dtype = _float_dtype(dtype, "normal")
    return jax.random.normal(draw_seed(seed), shape, dtype) * stddev + mean


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """Draws from a uniform distribution on `[minval, maxval)`.

    Example:
    >>> bool((uniform((5,), seed=0) < 1).all())
    True
    """
    dtype = _float_dtype(dtype, "uniform")
    return jax.random.uniform(draw_seed(seed), shape, dtype, minval=minval, maxval=maxval)


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Draws from a normal distribution truncated to two standard deviations.

    Example:
    >>> bool((abs(truncated_normal((100,), seed=0)) <= 2).all())
    True
    """
    dtype = _float_dtype(dtype, "truncated_normal")
    sample = jax.random.truncated_normal(draw_seed(seed), -2.0, 2.0, shape, dtype)
    return sample * stddev + mean


def randint(shape, minval, maxval, dtype="int32", seed=None):
    """Draws integers from `[minval, maxval)`.

    Example:
    >>> randint((3,), 0, 2, seed=0).dtype
    dtype('int32')
    """
    if not jnp.issubdtype(jnp.dtype(dtype), jnp.integer):
        raise ValueError(
            f"`kerax.random.randint` requires an integer `dtype`. Received: dtype={dtype}"
        )
    return jax.random.randint(draw_seed(seed), shape, minval, maxval, dtype)


def categorical(logits, num_samples, dtype="int32", seed=None):
    """Draws `num_samples` class indices per row of the 2-D `logits`.

    Example:
    >>> categorical(jnp.array([[0.0, 100.0]]), 3, seed=0).tolist()
    [[1, 1, 1]]
    """
    logits = jnp.asarray(logits)
    out_shape = (logits.shape[0], num_samples) + tuple(logits.shape[2:])
    out = jax.random.categorical(draw_seed(seed), logits[..., None], axis=1, shape=out_shape)
    return out.astype(dtype)


def dropout(inputs, rate, noise_shape=None, seed=None):
    """Zeroes entries of `inputs` with probability `rate`, scaling the rest by `1/(1-rate)`.

    Example:
    >>> dropout(jnp.ones(4), 0.0).tolist()
    [1.0, 1.0, 1.0, 1.0]
    """
    inputs = jnp.asarray(inputs)
    if rate == 1.0:
        return jnp.zeros_like(inputs)
    if rate == 0.0:
        return inputs
    keep = 1.0 - rate
    if noise_shape is None:
        noise_shape = inputs.shape
    noise_shape = [d if n is None else n for n, d in zip(noise_shape, inputs.shape)]
    mask = jax.random.bernoulli(draw_seed(seed), keep, noise_shape)
    mask = jnp.broadcast_to(mask, inputs.shape)
    return jax.lax.select(mask, inputs / keep, jnp.zeros_like(inputs))


def shuffle(x, axis=0, seed=None):
    """`x` randomly permuted along `axis`.

    Example:
    >>> sorted(shuffle(jnp.arange(4), seed=0).tolist())
    [0, 1, 2, 3]
    """
    return jax.random.permutation(draw_seed(seed), jnp.asarray(x), axis, independent=True)


def gamma(shape, alpha, dtype=None, seed=None):
    """Draws from a gamma distribution with concentration `alpha`.

    Example:
    >>> gamma((2,), 2.0, seed=0).shape
    (2,)
    """
    dtype = _float_dtype(dtype, "gamma")
    return jax.random.gamma(draw_seed(seed), alpha, shape, dtype)


def binomial(shape, counts, probabilities, dtype=None, seed=None):
    """Draws the number of successes in `counts` trials of probability `probabilities`.

    Example:
    >>> binomial((2,), 5, 1.0, seed=0).tolist()
    [5.0, 5.0]
    """
    dtype = _float_dtype(dtype, "binomial")
    return jax.random.binomial(draw_seed(seed), jnp.asarray(counts),
                               jnp.asarray(probabilities), shape, dtype)


def beta(shape, alpha, beta, dtype=None, seed=None):
    """Draws from a beta distribution with parameters `alpha` and `beta`.

    Example:
    >>> bool(((beta((10,), 2.0, 3.0, seed=0) >= 0)).all())
    True
    """
    dtype = _float_dtype(dtype, "beta")
    return jax.random.beta(draw_seed(seed), jnp.asarray(alpha), jnp.asarray(beta), shape,
                           dtype)
