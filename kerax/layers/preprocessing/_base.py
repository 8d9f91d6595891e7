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


def as_float(layer, x):
    x = jnp.asarray(x)
    return x.astype(layer.compute_dtype) if x.dtype != layer.compute_dtype else x


class TrainingByDefault:
    """Mixin: called eagerly without `training`, the layer runs in training mode, as Keras
    3's image preprocessing layers do (their `call` defaults to `training=True`), so
    `kerax.layers.RandomFlip()(images)` augments. Inside a model the flag comes from
    `fit` / `predict` as usual, and `apply` takes it explicitly.

    Example:
    >>> import kerax, numpy as np
    >>> flip = kerax.layers.RandomFlip("horizontal", seed=1)
    >>> x = np.arange(4.0).reshape(1, 1, 4, 1)
    >>> sorted(flip(x).ravel().tolist()) == [0.0, 1.0, 2.0, 3.0]
    True
    """

    def _call_eager(self, args, kwargs):
        if kwargs.get("training") is None:
            kwargs = {**kwargs, "training": True}
        return super()._call_eager(args, kwargs)
