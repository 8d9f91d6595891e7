"""Conv1D, Conv2D and Conv3D (Keras 3's `keras.layers.ConvND`)."""

from kerax.layers.convolutional.base_conv import BaseConv

_ARGS = """
    Args:
        filters: number of output channels.
        kernel_size: int or tuple of ints, the window size.
        strides: int or tuple of ints (default 1).
        padding: `"valid"` (default) or `"same"`{causal}.
        data_format: `"channels_last"` (default) or `"channels_first"`.
        dilation_rate: int or tuple of ints (default 1).
        groups: split channels into this many groups convolved separately (default 1).
        activation: activation name or callable (default: none).
        use_bias: whether to add a bias (default True).
        kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
        activity_regularizer, kernel_constraint, bias_constraint: as in `Dense`.
        lora_rank, lora_alpha (keyword arguments): LoRA, as in Keras (see `BaseConv`).
"""


class Conv1D(BaseConv):
    """1-D convolution (temporal): `(batch, steps, channels) -> (batch, new_steps, filters)`.
    {args}
    Example:
    >>> import numpy as np
    >>> Conv1D(4, 3, padding="causal")(np.ones((2, 10, 3))).shape
    (2, 10, 4)
    """

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(1, filters, kernel_size, strides, padding, data_format,
                         dilation_rate, groups, activation, use_bias, kernel_initializer,
                         bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint, **kwargs)


class Conv2D(BaseConv):
    """2-D convolution over images: `(batch, rows, cols, channels)` in channels_last.
    {args}
    Example:
    >>> import numpy as np
    >>> Conv2D(8, 3, strides=2, padding="same")(np.ones((2, 6, 6, 3))).shape
    (2, 3, 3, 8)
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid",
                 data_format=None, dilation_rate=(1, 1), groups=1, activation=None,
                 use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(2, filters, kernel_size, strides, padding, data_format,
                         dilation_rate, groups, activation, use_bias, kernel_initializer,
                         bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint, **kwargs)


class Conv3D(BaseConv):
    """3-D convolution over volumes: `(batch, d1, d2, d3, channels)` in channels_last.
    {args}
    Example:
    >>> import numpy as np
    >>> Conv3D(2, 3)(np.ones((1, 5, 5, 5, 1))).shape
    (1, 3, 3, 3, 2)
    """

    def __init__(self, filters, kernel_size, strides=(1, 1, 1), padding="valid",
                 data_format=None, dilation_rate=(1, 1, 1), groups=1, activation=None,
                 use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(3, filters, kernel_size, strides, padding, data_format,
                         dilation_rate, groups, activation, use_bias, kernel_initializer,
                         bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint, **kwargs)


Conv1D.__doc__ = Conv1D.__doc__.replace("{args}", _ARGS.format(causal=', or `"causal"`'))
Conv2D.__doc__ = Conv2D.__doc__.replace("{args}", _ARGS.format(causal=""))
Conv3D.__doc__ = Conv3D.__doc__.replace("{args}", _ARGS.format(causal=""))
