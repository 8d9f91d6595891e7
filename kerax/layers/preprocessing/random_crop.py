"""`RandomCrop`: a random `(height, width)` window in training, a centered one otherwise."""

import jax

from kerax.layers import seed_state
from kerax.layers.input_spec import InputSpec
from kerax.layers.layer import Layer
from kerax.layers.preprocessing._base import (
    TrainingByDefault,
    as_float,
    data_format,
    hw_axes,
)
from kerax.layers.preprocessing.resizing import resize
from kerax.random.seed_generator import SeedGenerator


def _positive_int(layer_name, name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(
            f"{layer_name}: `{name}` must be a positive integer (the output size in pixels). "
            f"Received: {name}={value!r}"
        )
    return value


class RandomCrop(TrainingByDefault, Layer):
    """Crops images to `(height, width)` at a random location (training only).

    In training, when the images are at least `height` x `width`, one window of that
    size is drawn for the whole batch, as Keras does, from `rng` (or, without one, from
    the layer's seed state `generator`). Otherwise (inference, or images smaller than
    the target) the largest centered window with the target's
    aspect ratio is cropped and resized (bilinear) to `(height, width)`, as Keras
    documents; Keras 3.15 itself returns the input unchanged at inference
    (keras-team/keras#21868), so a kerax model's output shape does not depend on
    `training`. The output is float (the layer's dtype).

    Args:
        height: the output height.
        width: the output width.
        seed: the initial seed state of `layer.generator` (random when None), drawn from
            in training when `apply` gets no `rng`.
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Input shape: `(batch, height, width, channels)` or one image (rank 3).

    Output shape: `(batch, height, width, channels)` with the target height and width.

    Example:
    >>> import jax, numpy as np
    >>> layer = RandomCrop(2, 2)
    >>> x = np.arange(16.0).reshape(1, 4, 4, 1)
    >>> y, _ = layer.apply({}, x, training=True, rng=jax.random.PRNGKey(0))
    >>> y.shape
    (1, 2, 2, 1)
    >>> layer.apply({}, x)[0][0, :, :, 0].tolist()  # inference: centered window, resized
    [[2.5, 4.5], [10.5, 12.5]]
    """

    def __init__(self, height, width, seed=None, data_format=None, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.height = _positive_int("RandomCrop", "height", height)
        self.width = _positive_int("RandomCrop", "width", width)
        self.seed = seed
        self.generator = SeedGenerator(seed)  # Keras' seed state (see `seed_state`)
        self.data_format = _data_format(data_format)
        self.input_spec = InputSpec(min_ndim=3, max_ndim=4)

    def forward(self, params, state, inputs, training=False, rng=None, **kwargs):
        x = as_float(self, inputs)
        axes = hw_axes(x, self.data_format)
        h, w = x.shape[axes[0]], x.shape[axes[1]]
        if not (training and h >= self.height and w >= self.width):
            return resize(x, self.height, self.width, self.data_format,
                          crop_to_aspect_ratio=True), state
        rng, state = seed_state.draw(self, state, rng, "generator", count=2)  # Keras: 2
        k_top, k_left = jax.random.split(rng)
        top = jax.random.randint(k_top, (), 0, h - self.height + 1)
        left = jax.random.randint(k_left, (), 0, w - self.width + 1)
        x = jax.lax.dynamic_slice_in_dim(x, top, self.height, axis=axes[0])
        return jax.lax.dynamic_slice_in_dim(x, left, self.width, axis=axes[1]), state

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width,
                "seed": self.seed, "data_format": self.data_format}


_data_format = data_format
