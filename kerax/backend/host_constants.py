"""Constant arrays (zeros, ones, fills) built on the host when nothing is traced.

An eager `jnp.zeros(shape)` or `jnp.zeros_like(x)` compiles one small XLA program per
shape and dtype (~25 ms each on CPU); a model's biases and an optimizer's slots have many
shapes, so creating them eagerly cost a noticeable part of the time to the first step.
`jax.device_put` of a NumPy array compiles nothing. Under a trace these are `jnp.full`.
"""

import jax
import jax.numpy as jnp
import numpy as np
from jax._src.core import trace_state_clean  # no public "is a trace running" in jax 0.10


def _tracing():
    """Whether a trace is running (`jit`, `eval_shape`): constants must stay abstract
    there, or `jax.eval_shape(model.init)` would fill every bias on the host."""
    return not trace_state_clean()


def full(shape, value, dtype):
    """`jnp.full(shape, value, dtype)`, built on the host unless `shape` is traced.

    Example:
    >>> full((2,), 3, "float32").tolist()
    [3.0, 3.0]
    """
    dtype = jnp.dtype(dtype)
    if _tracing() or any(isinstance(d, jax.core.Tracer) for d in tuple(shape)):
        return jnp.full(shape, value, dtype)
    return jax.device_put(np.full(tuple(shape), value, dtype))


def full_like(x, value=0):
    """`jnp.full_like(x, value)` (on `x`'s devices if `x` is committed to them), built on the host unless `x` is traced.

    Example:
    >>> full_like(jnp.ones((2, 2)), 0).tolist()
    [[0.0, 0.0], [0.0, 0.0]]
    """
    if _tracing() or isinstance(x, jax.core.Tracer) or not isinstance(x, (jax.Array,
                                                                        np.ndarray)):
        return jnp.full_like(x, value)
    host = np.full(x.shape, value, x.dtype)
    if isinstance(x, jax.Array) and x.committed:
        return jax.device_put(host, x.sharding)
    return jax.device_put(host)
