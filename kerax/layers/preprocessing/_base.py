"""Helpers shared by the preprocessing layers: data formats, image axes, randomness."""

import jax.numpy as jnp

from kerax.backend import config as _config
from kerax.errors import unknown_identifier


def data_format(value):
    """Keras' `standardize_data_format`: None means the global image data format."""
    if value is None:
        fn = getattr(_config, "image_data_format", None)
        value = fn() if fn is not None else "channels_last"
    value = str(value).lower()
    if value not in ("channels_first", "channels_last"):
        raise unknown_identifier("data_format", value, ["channels_first", "channels_last"])
    return value


def hw_axes(x, fmt):
    """The (height, width) axes of an image or a batch of images."""
    return (x.ndim - 2, x.ndim - 1) if fmt == "channels_first" else (x.ndim - 3, x.ndim - 2)


def needs_rng(layer, rng):
    if rng is None:
        raise ValueError(
            f"{type(layer).__name__} '{layer.name}' is random in training mode and needs a "
            "key: call `apply(variables, x, training=True, rng=jax.random.PRNGKey(0))`."
        )


def as_float(layer, x):
    x = jnp.asarray(x)
    return x.astype(layer.dtype) if x.dtype != layer.dtype else x
