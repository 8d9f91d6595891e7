"""MaxPooling1D, MaxPooling2D and MaxPooling3D."""

from kerax.layers.pooling.base_pooling import BasePooling


class MaxPooling1D(BasePooling):
    """Max pooling over temporal data `(batch, steps, channels)`.

    Takes the maximum of each window, per channel.

    Args:
        pool_size: int or tuple of 1 int (default 2).
        strides: int or tuple of 1 int; None (default) means `pool_size`.
        padding: `"valid"` (default) or `"same"`.
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Example:
    >>> import numpy as np
    >>> MaxPooling1D()(np.ones((2, 8, 3))).shape
    (2, 4, 3)
    """

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None,
                 name=None, **kwargs):
        super().__init__(pool_size, strides, 1, pool_mode="max", padding=padding,
                         data_format=data_format, name=name, **kwargs)


class MaxPooling2D(BasePooling):
    """Max pooling over images `(batch, rows, cols, channels)`.

    Takes the maximum of each window, per channel.

    Args:
        pool_size: int or tuple of 2 ints (default (2, 2)).
        strides: int or tuple of 2 ints; None (default) means `pool_size`.
        padding: `"valid"` (default) or `"same"`.
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Example:
    >>> import numpy as np
    >>> MaxPooling2D(padding="same")(np.ones((2, 5, 5, 3))).shape
    (2, 3, 3, 3)
    """

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None,
                 name=None, **kwargs):
        super().__init__(pool_size, strides, 2, pool_mode="max", padding=padding,
                         data_format=data_format, name=name, **kwargs)


class MaxPooling3D(BasePooling):
    """Max pooling over volumes `(batch, d1, d2, d3, channels)`.

    Takes the maximum of each window, per channel.

    Args:
        pool_size: int or tuple of 3 ints (default (2, 2, 2)).
        strides: int or tuple of 3 ints; None (default) means `pool_size`.
        padding: `"valid"` (default) or `"same"`.
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Example:
    >>> import numpy as np
    >>> MaxPooling3D()(np.ones((1, 4, 4, 4, 2))).shape
    (1, 2, 2, 2, 2)
    """

    def __init__(self, pool_size=(2, 2, 2), strides=None, padding="valid", data_format=None,
                 name=None, **kwargs):
        super().__init__(pool_size, strides, 3, pool_mode="max", padding=padding,
                         data_format=data_format, name=name, **kwargs)
