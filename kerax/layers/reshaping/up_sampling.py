"""UpSampling1D, UpSampling2D and UpSampling3D: enlarge spatial axes by integer factors."""

import jax
import jax.numpy as jnp

from kerax.backend import config as _config
from kerax.errors import unknown_identifier
from kerax.layers.convolutional.argument_validation import standardize_tuple
from kerax.layers.input_spec import InputSpec
from kerax.layers.layer import Layer

INTERPOLATIONS = ("bicubic", "bilinear", "lanczos3", "lanczos5", "nearest")


class BaseUpSampling(Layer):
    """Repeats every element `size[i]` times along spatial axis `i` (not public)."""

    def __init__(self, rank, size, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.rank = rank
        self.data_format = _config.standardize_data_format(data_format)
        self.size = standardize_tuple(size, rank, "size")
        self.input_spec = InputSpec(ndim=rank + 2)

    def _first_axis(self):
        return 1 if self.data_format == "channels_last" else 2

    def forward(self, params, state, inputs, training=False, rng=None, **kwargs):
        x = jnp.asarray(inputs)
        for axis, factor in enumerate(self.size, start=self._first_axis()):
            x = jnp.repeat(x, factor, axis=axis)
        return x, state

    def get_config(self):
        return {**super().get_config(), "size": self.size, "data_format": self.data_format}


class UpSampling1D(BaseUpSampling):
    """Repeats each time step `size` times: `(batch, steps, features)`.

    Example:
    >>> import numpy as np
    >>> UpSampling1D(3)(np.ones((2, 4, 5))).shape
    (2, 12, 5)
    """

    def __init__(self, size=2, **kwargs):
        if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
            raise ValueError(
                f"UpSampling1D: `size` must be a positive integer. Received: size={size!r}")
        super().__init__(1, size, "channels_last", **kwargs)
        self.size = size

    def forward(self, params, state, inputs, training=False, rng=None, **kwargs):
        return jnp.repeat(jnp.asarray(inputs), self.size, axis=1), state

    def get_config(self):
        config = super().get_config()
        del config["data_format"]
        return config


class UpSampling2D(BaseUpSampling):
    """Enlarges images by `size = (rows, cols)` factors.

    Args:
        size: int or 2 ints, the factors (default `(2, 2)`).
        data_format: `"channels_last"` (default) or `"channels_first"`.
        interpolation: `"nearest"` (default, repeats pixels), `"bilinear"`, `"bicubic"`,
            `"lanczos3"` or `"lanczos5"` (as `jax.image.resize`, which Keras also uses).

    Example:
    >>> import numpy as np
    >>> UpSampling2D((2, 3), interpolation="bilinear")(np.ones((1, 2, 2, 1))).shape
    (1, 4, 6, 1)
    """

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(2, size, data_format, **kwargs)
        self.interpolation = str(interpolation).lower()
        if self.interpolation not in INTERPOLATIONS:
            raise unknown_identifier("interpolation", interpolation, INTERPOLATIONS)

    def forward(self, params, state, inputs, training=False, rng=None, **kwargs):
        if self.interpolation == "nearest":
            return super().forward(params, state, inputs)
        x = jnp.asarray(inputs)
        shape = list(x.shape)
        for axis, factor in enumerate(self.size, start=self._first_axis()):
            shape[axis] *= factor
        method = self.interpolation
        return jax.image.resize(x, tuple(shape), method=method, antialias=False), state

    def get_config(self):
        return {**super().get_config(), "interpolation": self.interpolation}


class UpSampling3D(BaseUpSampling):
    """Enlarges volumes by `size = (d1, d2, d3)` factors, repeating elements.

    Args:
        size: int or 3 ints, the factors (default `(2, 2, 2)`).
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Example:
    >>> import numpy as np
    >>> UpSampling3D(2)(np.ones((1, 2, 2, 2, 1))).shape
    (1, 4, 4, 4, 1)
    """

    def __init__(self, size=(2, 2, 2), data_format=None, **kwargs):
        super().__init__(3, size, data_format, **kwargs)
