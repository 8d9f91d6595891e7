"""Cropping1D, Cropping2D and Cropping3D: remove rows at the ends of spatial axes."""

from kerax.backend import config as _config
from kerax.errors import LayerShapeError
from kerax.layers.convolutional.argument_validation import standardize_tuple
from kerax.layers.input_spec import InputSpec
from kerax.layers.layer import Layer

_ORDINAL = ("1st", "2nd", "3rd")


def standardize_pairs(value, rank, name):
    """An int, `rank` ints or `rank` pairs as `rank` `(before, after)` pairs of ints >= 0.

    Example:
    >>> standardize_pairs(1, 2, "padding")
    ((1, 1), (1, 1))
    >>> standardize_pairs((1, (2, 3)), 2, "padding")
    ((1, 1), (2, 3))
    """
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value,) * rank
    if not hasattr(value, "__len__") or len(value) != rank:
        raise ValueError(
            f"`{name}` must be an int, a tuple of {rank} ints, or a tuple of {rank} "
            f"(before, after) pairs. Received: {name}={value!r}"
        )
    return tuple(standardize_tuple(v, 2, f"{_ORDINAL[i]} entry of {name}", allow_zero=True)
                 for i, v in enumerate(value))


class BaseCropping(Layer):
    """Crops `(before, after)` rows off each spatial axis (not public)."""

    def __init__(self, rank, cropping, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.rank = rank
        self.data_format = _config.standardize_data_format(data_format)
        self.pairs = standardize_pairs(cropping, rank, "cropping")
        self.input_spec = InputSpec(ndim=rank + 2)

    @property
    def cropping(self):
        return self.pairs

    def forward(self, params, state, inputs, training=False, rng=None, **kwargs):
        first = 1 if self.data_format == "channels_last" else 2
        index = [slice(None)] * inputs.ndim
        for axis, (lo, hi) in enumerate(self.pairs, start=first):
            size = inputs.shape[axis]
            if lo + hi >= size:
                raise LayerShapeError(
                    f"{type(self).__name__} '{self.name}': cropping {self.cropping} must "
                    f"leave at least one row on every spatial axis, received input of shape "
                    f"{tuple(inputs.shape)}. Crop less or feed a larger input."
                )
            index[axis] = slice(lo, size - hi)
        return inputs[tuple(index)], state

    def get_config(self):
        return {**super().get_config(), "cropping": self.cropping,
                "data_format": self.data_format}


class Cropping1D(BaseCropping):
    """Crops along the time axis of `(batch, steps, features)` inputs.

    Args:
        cropping: int or `(before, after)`: steps removed at the start and the end.

    Example:
    >>> import numpy as np
    >>> Cropping1D((1, 2))(np.ones((2, 6, 3))).shape
    (2, 3, 3)
    """

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(1, [cropping], "channels_last", **kwargs)

    @property
    def cropping(self):
        return self.pairs[0]

    def get_config(self):
        config = super().get_config()
        del config["data_format"]
        return config


class Cropping2D(BaseCropping):
    """Crops rows and columns of images.

    Args:
        cropping: int, `(rows, cols)` symmetric crops, or `((top, bottom), (left, right))`.
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Example:
    >>> import numpy as np
    >>> Cropping2D(((1, 0), (2, 2)))(np.ones((2, 6, 6, 3))).shape
    (2, 5, 2, 3)
    """

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(2, cropping, data_format, **kwargs)


class Cropping3D(BaseCropping):
    """Crops the three spatial axes of volumes.

    Args:
        cropping: int, 3 symmetric crops, or 3 `(before, after)` pairs.
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Example:
    >>> import numpy as np
    >>> Cropping3D(1)(np.ones((1, 4, 4, 4, 2))).shape
    (1, 2, 2, 2, 2)
    """

    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(3, cropping, data_format, **kwargs)
