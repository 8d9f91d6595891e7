"""AveragePooling1D, AveragePooling2D and AveragePooling3D."""

from kerax.layers.pooling.base_pooling import BasePooling


class AveragePooling1D(BasePooling):
    """Average pooling over temporal data `(batch, steps, channels)`.

    Takes the mean of each window, per channel.

    Args:
        pool_size: int, the window size.
        strides: int or tuple of 1 int; None (default) means `pool_size`.
        padding: `"valid"` (default) or `"same"` (only real elements are averaged).
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Example:
    >>> import numpy as np
    >>> AveragePooling1D(2)(np.ones((2, 8, 3))).shape
    (2, 4, 3)
    """

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None,
                 name=None, **kwargs):
        super().__init__(pool_size, strides, 1, pool_mode="average", padding=padding,
                         data_format=data_format, name=name, **kwargs)


class AveragePooling2D(BasePooling):
    """Average pooling over images `(batch, rows, cols, channels)`.

    Takes the mean of each window, per channel.

    Args:
        pool_size: int or tuple of 2 ints, the window size.
        strides: int or tuple of 2 ints; None (default) means `pool_size`.
        padding: `"valid"` (default) or `"same"` (only real elements are averaged).
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Example:
    >>> import numpy as np
    >>> AveragePooling2D(2, padding="same")(np.ones((2, 5, 5, 3))).shape
    (2, 3, 3, 3)
    """

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None,
                 name=None, **kwargs):
        super().__init__(pool_size, strides, 2, pool_mode="average", padding=padding,
                         data_format=data_format, name=name, **kwargs)


class AveragePooling3D(BasePooling):
    """Average pooling over volumes `(batch, d1, d2, d3, channels)`.

    Takes the mean of each window, per channel.

    Args:
        pool_size: int or tuple of 3 ints, the window size.
        strides: int or tuple of 3 ints; None (default) means `pool_size`.
        padding: `"valid"` (default) or `"same"` (only real elements are averaged).
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Example:
    >>> import numpy as np
    >>> AveragePooling3D(2)(np.ones((1, 4, 4, 4, 2))).shape
    (1, 2, 2, 2, 2)
    """

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None,
                 name=None, **kwargs):
        super().__init__(pool_size, strides, 3, pool_mode="average", padding=padding,
                         data_format=data_format, name=name, **kwargs)
