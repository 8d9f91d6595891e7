"""`BasePooling`: max or average over sliding windows, as Keras 3 computes them."""

import math

import jax
import numpy as np
import jax.numpy as jnp

from kerax.backend import config as _config
from kerax.layers.convolutional.argument_validation import (
    standardize_padding, standardize_tuple)
from kerax.layers.input_spec import InputSpec
from kerax.layers.layer import Layer


def _window(values, data_format):
    return (1,) + values + (1,) if data_format == "channels_last" else (1, 1) + values


def max_pool(x, pool_size, strides, padding, data_format):
    """Max over windows; "same" pads with -inf, so padding never wins."""
    x = jnp.asarray(x)
    if jnp.issubdtype(x.dtype, jnp.floating):
        init = np.array(-np.inf, x.dtype)  # concrete, so reduce_window stays differentiable
    else:
        init = np.array(np.iinfo(x.dtype).min, x.dtype)
    return jax.lax.reduce_window(x, init, jax.lax.max, _window(pool_size, data_format),
                                 _window(strides, data_format), padding.upper())


def average_pool(x, pool_size, strides, padding, data_format):
    """Mean over windows; with "same" padding only the real (unpadded) elements count."""
    x = jnp.asarray(x)
    window, steps = _window(pool_size, data_format), _window(strides, data_format)
    zero = np.array(0, x.dtype)
    total = jax.lax.reduce_window(x, zero, jax.lax.add, window, steps, padding.upper())
    if padding == "valid":
        return total / math.prod(pool_size)
    ones = jnp.ones([d if w != 1 else 1 for d, w in zip(x.shape, window)], x.dtype)
    counts = jax.lax.reduce_window(ones, zero, jax.lax.add, window, steps, "SAME")
    return total / counts


class BasePooling(Layer):
    """Pooling over `rank` spatial axes with a window of `pool_size` moved by `strides`.

    Args:
        pool_size: int or tuple of `rank` ints, the window size.
        strides: int or tuple of `rank` ints; None (default) means `pool_size`.
        rank: number of spatial axes (1, 2 or 3).
        pool_mode: `"max"` or `"average"`.
        padding: `"valid"` (default) or `"same"`.
        data_format: `"channels_last"` (default) or `"channels_first"`.
    """

    def __init__(self, pool_size, strides, rank, pool_mode="max", padding="valid",
                 data_format=None, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.pool_size = standardize_tuple(pool_size, rank, "pool_size")
        self.strides = standardize_tuple(pool_size if strides is None else strides, rank,
                                         "strides")
        self.pool_mode = pool_mode
        self.padding = standardize_padding(padding)
        self.data_format = _config.standardize_data_format(data_format)
        self.input_spec = InputSpec(ndim=rank + 2)

    def forward(self, params, state, inputs, training=False, rng=None, **kwargs):
        pool = max_pool if self.pool_mode == "max" else average_pool
        return pool(inputs, self.pool_size, self.strides, self.padding, self.data_format), state

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size, "padding": self.padding,
                "strides": self.strides, "data_format": self.data_format}
