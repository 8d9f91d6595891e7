"""GlobalMaxPooling1D, GlobalMaxPooling2D and GlobalMaxPooling3D."""

import jax.numpy as jnp

from kerax.layers.pooling.base_global_pooling import BaseGlobalPooling


class GlobalMaxPooling1D(BaseGlobalPooling):
    """Global max pooling over temporal data `(batch, steps, features)`.

    Args:
        data_format: `"channels_last"` (default) or `"channels_first"`.
        keepdims: keep the spatial axes with length 1 (default False).

    Example:
    >>> import numpy as np
    >>> GlobalMaxPooling1D()(np.ones((2, 8, 3))).shape
    (2, 3)
    """

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(1, jnp.max, data_format=data_format, keepdims=keepdims, **kwargs)


class GlobalMaxPooling2D(BaseGlobalPooling):
    """Global max pooling over images `(batch, rows, cols, channels)`.

    Args:
        data_format: `"channels_last"` (default) or `"channels_first"`.
        keepdims: keep the spatial axes with length 1 (default False).

    Example:
    >>> import numpy as np
    >>> GlobalMaxPooling2D()(np.ones((2, 5, 5, 3))).shape
    (2, 3)
    """

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(2, jnp.max, data_format=data_format, keepdims=keepdims, **kwargs)


class GlobalMaxPooling3D(BaseGlobalPooling):
    """Global max pooling over volumes `(batch, d1, d2, d3, channels)`.

    Args:
        data_format: `"channels_last"` (default) or `"channels_first"`.
        keepdims: keep the spatial axes with length 1 (default False).

    Example:
    >>> import numpy as np
    >>> GlobalMaxPooling3D()(np.ones((1, 4, 4, 4, 2))).shape
    (1, 2)
    """

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(3, jnp.max, data_format=data_format, keepdims=keepdims, **kwargs)
