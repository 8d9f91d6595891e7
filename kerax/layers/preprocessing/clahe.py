"""`ContrastLimitedAdaptiveHistogramEqualization` (CLAHE), as Keras 3 computes it."""

import jax.numpy as jnp

from kerax.layers.preprocessing.image_layer import ImagePreprocessingLayer, rescale


class ContrastLimitedAdaptiveHistogramEqualization(ImagePreprocessingLayer):
    """Equalizes the histogram of each tile of each image, with a clip limit (always on).

    The image (on the 0-255 scale of `value_range`) is cut into `tile_grid_size` tiles;
    each tile's 256-bin histogram is clipped at `clip_limit * tile_pixels / 256` (the excess
    spread evenly over the bins) and turned into a mapping by its cumulative sum; each
    pixel's value is the bilinear blend of the mappings of the four nearest tiles. Runs at
    inference and in training; the output keeps the input's dtype, as in Keras 3.

    Args:
        value_range: the range of the pixel values (default `(0, 255)`).
        clip_limit: the contrast limit (default 4.0); 0 or less disables clipping.
        tile_grid_size: `(rows, cols)` of tiles (default `(8, 8)`).
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Example:
    >>> import numpy as np
    >>> x = np.tile(np.arange(0, 64, dtype="float32"), (8, 1))[None, :, :, None]
    >>> y = ContrastLimitedAdaptiveHistogramEqualization(tile_grid_size=(2, 2))(x)
    >>> y.shape, float(y.max()) > float(x.max())
    ((1, 8, 64, 1), True)
    """

    def __init__(self, value_range=(0, 255), clip_limit=4.0, tile_grid_size=(8, 8),
                 data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        grid = tuple(tile_grid_size) if isinstance(tile_grid_size, (tuple, list)) else ()
        if len(grid) != 2 or not all(isinstance(g, int) and g > 0 for g in grid):
            raise ValueError(
                "ContrastLimitedAdaptiveHistogramEqualization: `tile_grid_size` must be two "
                f"positive integers (rows, cols). Received: tile_grid_size={tile_grid_size!r}")
        self.value_range, self.clip_limit = value_range, clip_limit
        self.tile_grid_size = tile_grid_size

    def transform_images(self, images, transformation=None, training=True):
        x = jnp.moveaxis(images, 1, -1) if self.data_format == "channels_first" else images
        y = rescale(x, self.value_range, (0, 255))
        y = rescale(self._clahe(y.astype("float32")), (0, 255), self.value_range)
        y = y.astype(images.dtype)
        return jnp.moveaxis(y, -1, 1) if self.data_format == "channels_first" else y

    def _clahe(self, images):
        n, height, width, channels = images.shape
        grid_h, grid_w = self.tile_grid_size
        tile_h, tile_w = -(-height // grid_h), -(-width // grid_w)
        pad_h, pad_w = tile_h * grid_h - height, tile_w * grid_w - width
        padded = jnp.pad(images, [(0, 0), (0, pad_h), (0, pad_w), (0, 0)], mode="symmetric")
        tiles = padded.reshape(n, grid_h, tile_h, grid_w, tile_w, channels)
        tiles = tiles.transpose(0, 1, 3, 5, 2, 4).reshape(n, grid_h, grid_w, channels, -1)
        values = jnp.clip(tiles.astype("int32"), 0, 255)
        hists = jnp.sum(values[..., None] == jnp.arange(256), axis=-2).astype("float32")
        if self.clip_limit > 0:
            limit = jnp.float32(self.clip_limit * (tile_h * tile_w) / 256.0)
            clipped = jnp.clip(hists, 0, limit)
            hists = clipped + jnp.sum(hists - clipped, axis=-1, keepdims=True) / 256.0
        cdf = jnp.cumsum(hists, axis=-1)
        cdf_min = jnp.min(cdf, axis=-1, keepdims=True)
        denominator = jnp.float32(tile_h * tile_w) - cdf_min
        denominator = jnp.where(denominator == 0, 1.0, denominator)
        cdf = jnp.clip((cdf - cdf_min) * 255.0 / denominator, 0, 255)
        cdf = jnp.pad(cdf, [(0, 0), (1, 1), (1, 1), (0, 0), (0, 0)], mode="edge")
        y0, y1, wy = _neighbours(tile_h * grid_h, tile_h, grid_h)
        x0, x1, wx = _neighbours(tile_w * grid_w, tile_w, grid_w)
        pixels = jnp.clip(padded, 0, 255).astype("int32")
        b = jnp.arange(n)[:, None, None, None]
        c = jnp.arange(channels)[None, None, None, :]

        def at(ys, xs):
            return cdf[b, ys[None, :, None, None], xs[None, None, :, None], c, pixels]

        wx, wy = wx[None, None, :, None], wy[None, :, None, None]
        top = at(y0, x0) * (1.0 - wx) + at(y0, x1) * wx
        bottom = at(y1, x0) * (1.0 - wx) + at(y1, x1) * wx
        return (top * (1.0 - wy) + bottom * wy)[:, :height, :width, :]

    def get_config(self):
        return {**super().get_config(), "value_range": self.value_range,
                "clip_limit": self.clip_limit, "tile_grid_size": self.tile_grid_size}


def _neighbours(length, tile, grid):
    """The two tile rows (or columns) around each pixel, and the weight of the second."""
    g = (jnp.arange(length, dtype="float32") - tile / 2.0) / tile + 1.0
    lo = jnp.floor(g)
    weight = g - lo
    return (jnp.clip(lo, 0, grid + 1).astype("int32"),
            jnp.clip(lo + 1.0, 0, grid + 1).astype("int32"), weight)
