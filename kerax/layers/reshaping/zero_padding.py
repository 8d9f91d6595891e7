"""ZeroPadding1D, ZeroPadding2D and ZeroPadding3D: add zeros at the ends of spatial axes."""

import jax.numpy as jnp

from kerax.backend import config as _config
from kerax.layers.input_spec import InputSpec
from kerax.layers.layer import Layer
from kerax.layers.reshaping.cropping import standardize_pairs


class BaseZeroPadding(Layer):
    """Pads `(before, after)` zeros on each spatial axis (not public)."""

    def __init__(self, rank, padding, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.rank = rank
        self.data_format = _config.standardize_data_format(data_format)
        self.pairs = standardize_pairs(padding, rank, "padding")
        self.input_spec = InputSpec(ndim=rank + 2)

    @property
    def padding(self):
        return self.pairs

    def forward(self, params, state, inputs, training=False, rng=None, **kwargs):
        if self.data_format == "channels_last":
            pads = ((0, 0),) + self.pairs + ((0, 0),)
        else:
            pads = ((0, 0), (0, 0)) + self.pairs
        return jnp.pad(jnp.asarray(inputs), pads), state

    def get_config(self):
        return {**super().get_config(), "padding": self.padding,
                "data_format": self.data_format}


class ZeroPadding1D(BaseZeroPadding):
    """Pads the time axis of `(batch, steps, features)` inputs with zeros.

    Args:
        padding: int or `(before, after)`: zeros added at the start and the end.
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Example:
    >>> import numpy as np
    >>> ZeroPadding1D((1, 2))(np.ones((2, 3, 4))).shape
    (2, 6, 4)
    """

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(1, [padding], data_format, **kwargs)

    @property
    def padding(self):
        return self.pairs[0]


class ZeroPadding2D(BaseZeroPadding):
    """Pads rows and columns of images with zeros.

    Args:
        padding: int, `(rows, cols)` symmetric padding, or `((top, bottom), (left, right))`.
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Example:
    >>> import numpy as np
    >>> ZeroPadding2D(((1, 0), (2, 2)))(np.ones((2, 3, 3, 1))).shape
    (2, 4, 7, 1)
    """

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(2, padding, data_format, **kwargs)


class ZeroPadding3D(BaseZeroPadding):
    """Pads the three spatial axes of volumes with zeros.

    Args:
        padding: int, 3 symmetric paddings, or 3 `(before, after)` pairs.
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Example:
    >>> import numpy as np
    >>> ZeroPadding3D(1)(np.ones((1, 2, 2, 2, 1))).shape
    (1, 4, 4, 4, 1)
    """

    def __init__(self, padding=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(3, padding, data_format, **kwargs)
