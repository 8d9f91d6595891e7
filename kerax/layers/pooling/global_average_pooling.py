"""GlobalAveragePooling1D, GlobalAveragePooling2D and GlobalAveragePooling3D."""

import jax.numpy as jnp

from kerax.layers.pooling.base_global_pooling import BaseGlobalPooling


class GlobalAveragePooling1D(BaseGlobalPooling):
    """Global average pooling over temporal data `(batch, steps, features)`.

    Args:
        data_format: `"channels_last"` (default) or `"channels_first"`.
        keepdims: keep the spatial axes with length 1 (default False).

    Call arguments:
        inputs: a 3-D array.
        mask: optional `(batch, steps)` booleans; masked steps are left out of the mean.

    Example:
    >>> import numpy as np
    >>> GlobalAveragePooling1D()(np.ones((2, 8, 3))).shape
    (2, 3)
    """

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(1, jnp.mean, data_format=data_format, keepdims=keepdims, **kwargs)
        self.supports_masking = True

    def forward(self, params, state, inputs, training=False, rng=None, mask=None, **kwargs):
        if mask is None:
            return super().forward(params, state, inputs)
        x = jnp.asarray(inputs)
        channel_axis = 2 if self.data_format == "channels_last" else 1
        keep = jnp.expand_dims(jnp.asarray(mask).astype(bool), channel_axis)
        axis = self.spatial_axes()
        total = jnp.sum(jnp.where(keep, x, 0), axis=axis, keepdims=self.keepdims)
        count = jnp.sum(keep.astype(x.dtype), axis=axis, keepdims=self.keepdims)
        return total / count, state


class GlobalAveragePooling2D(BaseGlobalPooling):
    """Global average pooling over images `(batch, rows, cols, channels)`.

    Args:
        data_format: `"channels_last"` (default) or `"channels_first"`.
        keepdims: keep the spatial axes with length 1 (default False).

    Example:
    >>> import numpy as np
    >>> GlobalAveragePooling2D()(np.ones((2, 5, 5, 3))).shape
    (2, 3)
    """

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(2, jnp.mean, data_format=data_format, keepdims=keepdims, **kwargs)


class GlobalAveragePooling3D(BaseGlobalPooling):
    """Global average pooling over volumes `(batch, d1, d2, d3, channels)`.

    Args:
        data_format: `"channels_last"` (default) or `"channels_first"`.
        keepdims: keep the spatial axes with length 1 (default False).

    Example:
    >>> import numpy as np
    >>> GlobalAveragePooling3D()(np.ones((1, 4, 4, 4, 2))).shape
    (1, 2)
    """

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(3, jnp.mean, data_format=data_format, keepdims=keepdims, **kwargs)
