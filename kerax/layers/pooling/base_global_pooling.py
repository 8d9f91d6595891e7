"""`BaseGlobalPooling`: one value per channel, reducing every spatial axis."""

import jax.numpy as jnp

from kerax.backend import config as _config
from kerax.layers.input_spec import InputSpec
from kerax.layers.layer import Layer


class BaseGlobalPooling(Layer):
    """Reduces all spatial axes of `(batch, *spatial, channels)` inputs (or channels first).

    Args:
        rank: number of spatial axes (1, 2 or 3).
        reduce: `jnp.max` or `jnp.mean`.
        data_format: `"channels_last"` (default) or `"channels_first"`.
        keepdims: keep the spatial axes with length 1 (default False).
    """

    def __init__(self, rank, reduce, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.rank, self._reduce = rank, reduce
        self.data_format = _config.standardize_data_format(data_format)
        self.keepdims = keepdims
        self.input_spec = InputSpec(ndim=rank + 2)

    def spatial_axes(self):
        start = 1 if self.data_format == "channels_last" else 2
        return tuple(range(start, start + self.rank))

    def forward(self, params, state, inputs, training=False, rng=None, **kwargs):
        x = jnp.asarray(inputs)
        return self._reduce(x, axis=self.spatial_axes(), keepdims=self.keepdims), state

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format,
                "keepdims": self.keepdims}
