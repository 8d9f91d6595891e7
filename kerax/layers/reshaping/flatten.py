import math

import jax.numpy as jnp

from kerax.backend import config as _config
from kerax.layers.input_spec import InputSpec
from kerax.layers.layer import Layer


class Flatten(Layer):
    """Flattens every axis but the batch axis: `(batch, d1, d2, ...) -> (batch, d1*d2*...)`.

    Example:
    >>> import numpy as np
    >>> Flatten()(np.ones((2, 3, 4))).shape
    (2, 12)
    """

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = _config.standardize_data_format(data_format)
        self.input_spec = InputSpec(min_ndim=1)

    def forward(self, params, state, inputs, training=False, rng=None, **kwargs):
        x = jnp.asarray(inputs)
        if self.data_format == "channels_first" and x.ndim > 2:
            x = jnp.moveaxis(x, 1, -1)
        return x.reshape((x.shape[0], math.prod(x.shape[1:]))), state

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}
