"""Adaptive pooling: max or average over bins chosen so the output has a fixed size.

Along a spatial axis of length `n` pooled to `m` cells, cell `i` covers the input
positions `floor(i * n / m)` to `ceil((i + 1) * n / m)` (end excluded), as in Keras 3
and PyTorch. Bins may overlap and differ in width by one; `m > n` repeats positions.

Pooling is separable over the spatial axes (a box is the product of its per-axis
bins), so each axis is pooled in turn with one static gather: the positions of every
bin are taken into a `(m, width)` block and reduced over `width`. Nothing loops over
output cells, and the program compiles to a few gathers and reductions.
"""

import numpy as np

from kerax.backend import config as _config
from kerax.layers.input_spec import InputSpec
from kerax.layers.layer import Layer
from kerax.ops.nn_conv import adaptive_bins, adaptive_pool  # noqa: F401  (one implementation)


def _standardize_output_size(layer_name, output_size, rank):
    """`output_size` as a tuple of `rank` positive ints (Keras' error types)."""
    names = ("length",) if rank == 1 else ("height", "width") if rank == 2 else (
        "depth", "height", "width")
    expected = (f"an int or a tuple of {rank} int{'s' if rank > 1 else ''} "
                f"({', '.join(names)}), each > 0")
    if isinstance(output_size, (int, np.integer)) and not isinstance(output_size, bool):
        sizes = (int(output_size),) * rank
    elif isinstance(output_size, (tuple, list)):
        if len(output_size) != rank:
            # Keras raises ValueError for a wrong-length tuple in 1D, TypeError in 2D/3D.
            error = ValueError if rank == 1 else TypeError
            raise error(f"{layer_name}: `output_size` must be {expected}. Received "
                        f"output_size={output_size!r} of length {len(output_size)}.")
        if not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool)
                   for s in output_size):
            raise TypeError(f"{layer_name}: `output_size` must be {expected}. Received "
                            f"output_size={output_size!r}.")
        sizes = tuple(int(s) for s in output_size)
    else:
        raise TypeError(f"{layer_name}: `output_size` must be {expected}. Received "
                        f"output_size={output_size!r} of type {type(output_size).__name__}.")
    if any(s <= 0 for s in sizes):
        raise ValueError(f"{layer_name}: `output_size` must be {expected}. Received "
                         f"output_size={output_size!r}; use a positive size per axis.")
    return sizes


class BaseAdaptivePooling(Layer):
    """Adaptive pooling over `rank` spatial axes to a fixed `output_size`.

    Subclasses set the class attributes `rank` (1, 2 or 3) and `pool_mode`
    (`"average"` or `"max"`).

    Args:
        output_size: int or tuple of `rank` ints, the output's spatial shape.
        data_format: `"channels_last"` (default) or `"channels_first"`.
    """

    rank = None
    pool_mode = None

    def __init__(self, output_size, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.output_size = _standardize_output_size(type(self).__name__, output_size,
                                                    self.rank)
        self.data_format = _config.standardize_data_format(data_format)
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def forward(self, params, state, inputs, training=False, rng=None, **kwargs):
        return adaptive_pool(inputs, self.output_size, self.pool_mode, self.data_format), state

    def get_config(self):
        return {**super().get_config(), "output_size": self.output_size,
                "data_format": self.data_format}


class AdaptiveAveragePooling1D(BaseAdaptivePooling):
    """Adaptive average pooling of temporal data `(batch, steps, channels)`.

    Cell `i` of `output_size` cells averages steps `floor(i * steps / output_size)` to
    `ceil((i + 1) * steps / output_size)` (excluded), whatever the input length.

    Args:
        output_size: int or tuple of 1 int, the output length.
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Input shape:
        `(batch, steps, channels)`, or `(batch, channels, steps)` if channels first.

    Output shape:
        `(batch, output_size, channels)`, or `(batch, channels, output_size)`.

    Example:
    >>> import numpy as np
    >>> x = np.arange(7.0).reshape(1, 7, 1)
    >>> AdaptiveAveragePooling1D(3)(x)[0, :, 0].tolist()
    [1.0, 3.0, 5.0]
    """

    rank, pool_mode = 1, "average"


class AdaptiveAveragePooling2D(BaseAdaptivePooling):
    """Adaptive average pooling of images `(batch, rows, cols, channels)`.

    Each axis is split into bins as in `AdaptiveAveragePooling1D`; a cell averages its
    box of rows and columns.

    Args:
        output_size: int or tuple of 2 ints `(height, width)`.
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Input shape:
        `(batch, rows, cols, channels)`, or `(batch, channels, rows, cols)`.

    Output shape:
        `(batch, height, width, channels)`, or `(batch, channels, height, width)`.

    Example:
    >>> import numpy as np
    >>> AdaptiveAveragePooling2D((2, 3))(np.ones((1, 7, 5, 4))).shape
    (1, 2, 3, 4)
    """

    rank, pool_mode = 2, "average"


class AdaptiveAveragePooling3D(BaseAdaptivePooling):
    """Adaptive average pooling of volumes `(batch, d1, d2, d3, channels)`.

    Args:
        output_size: int or tuple of 3 ints `(depth, height, width)`.
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Input shape:
        `(batch, d1, d2, d3, channels)`, or `(batch, channels, d1, d2, d3)`.

    Output shape:
        `(batch, depth, height, width, channels)`, or channels first.

    Example:
    >>> import numpy as np
    >>> AdaptiveAveragePooling3D(2)(np.ones((1, 5, 4, 3, 2))).shape
    (1, 2, 2, 2, 2)
    """

    rank, pool_mode = 3, "average"


class AdaptiveMaxPooling1D(BaseAdaptivePooling):
    """Adaptive max pooling of temporal data `(batch, steps, channels)`.

    Cell `i` of `output_size` cells takes the maximum of steps
    `floor(i * steps / output_size)` to `ceil((i + 1) * steps / output_size)` (excluded).

    Args:
        output_size: int or tuple of 1 int, the output length.
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Input shape:
        `(batch, steps, channels)`, or `(batch, channels, steps)` if channels first.

    Output shape:
        `(batch, output_size, channels)`, or `(batch, channels, output_size)`.

    Example:
    >>> import numpy as np
    >>> x = np.arange(7.0).reshape(1, 7, 1)
    >>> AdaptiveMaxPooling1D(3)(x)[0, :, 0].tolist()
    [2.0, 4.0, 6.0]
    """

    rank, pool_mode = 1, "max"


class AdaptiveMaxPooling2D(BaseAdaptivePooling):
    """Adaptive max pooling of images `(batch, rows, cols, channels)`.

    Args:
        output_size: int or tuple of 2 ints `(height, width)`.
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Input shape:
        `(batch, rows, cols, channels)`, or `(batch, channels, rows, cols)`.

    Output shape:
        `(batch, height, width, channels)`, or `(batch, channels, height, width)`.

    Example:
    >>> import numpy as np
    >>> AdaptiveMaxPooling2D(2, data_format="channels_first")(np.ones((1, 3, 6, 6))).shape
    (1, 3, 2, 2)
    """

    rank, pool_mode = 2, "max"


class AdaptiveMaxPooling3D(BaseAdaptivePooling):
    """Adaptive max pooling of volumes `(batch, d1, d2, d3, channels)`.

    Args:
        output_size: int or tuple of 3 ints `(depth, height, width)`.
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Input shape:
        `(batch, d1, d2, d3, channels)`, or `(batch, channels, d1, d2, d3)`.

    Output shape:
        `(batch, depth, height, width, channels)`, or channels first.

    Example:
    >>> import numpy as np
    >>> AdaptiveMaxPooling3D((1, 2, 3))(np.ones((1, 4, 4, 4, 2))).shape
    (1, 1, 2, 3, 2)
    """

    rank, pool_mode = 3, "max"
