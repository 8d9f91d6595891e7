"""`Rescaling`: `x * scale + offset`."""

import jax.numpy as jnp
import numpy as np

from kerax.layers.layer import Layer
from kerax.layers.preprocessing._base import as_float


class Rescaling(Layer):
    """Multiplies inputs by `scale` and adds `offset` (e.g. `1/255` for pixel values).

    Args:
        scale: float (or array broadcast against the input).
        offset: float (or array), default 0.

    Example:
    >>> import numpy as np
    >>> Rescaling(1 / 255)(np.array([[0.0, 255.0]])).tolist()
    [[0.0, 1.0]]
    """

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale, self.offset = scale, offset
        self.supports_masking = True

    def forward(self, params, state, inputs, training=False, rng=None, **kwargs):
        x = as_float(self, inputs)
        scale = jnp.asarray(self.scale, x.dtype)
        offset = jnp.asarray(self.offset, x.dtype)
        return x * scale + offset, state

    def get_config(self):
        plain = lambda v: np.asarray(v).tolist() if not isinstance(v, (int, float)) else v  # noqa: E731
        return {**super().get_config(), "scale": plain(self.scale), "offset": plain(self.offset)}
