"""`RandomCrop`: a random `(height, width)` window in training, a centered one otherwise."""

import jax
import jax.numpy as jnp

from kerax.layers.input_spec import InputSpec
from kerax.layers.preprocessing._base import as_float, hw_axes
from kerax.layers.preprocessing.image_layer import ImagePreprocessingLayer
from kerax.layers.preprocessing.resizing import center_window, resize, window_boxes
from kerax.random import random as krandom
from kerax.utils import bounding_boxes as bb


def _positive_int(layer_name, name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(
            f"{layer_name}: `{name}` must be a positive integer (the output size in pixels). "
            f"Received: {name}={value!r}"
        )
    return value


class RandomCrop(ImagePreprocessingLayer):
    """Crops images to `(height, width)` at a random location (training only).

    In training, when the images are larger than `height` x `width` on both sides, one
    window of that size is drawn for the whole batch with Keras 3's two draws (so with
    the same `seed` an eager call crops where Keras crops), from `rng` (or, without one,
    from the layer's seed state `generator`). Otherwise (inference, or images not larger
    than the target) the largest centered window with the target's aspect ratio is
    cropped and resized (bilinear) to `(height, width)`, as Keras documents; Keras 3.15
    itself returns the input unchanged at inference (keras-team/keras#21868), so a kerax
    model's output shape does not depend on `training`. The output is float (the layer's
    dtype).

    Takes Keras' dict `{"images", "labels", "bounding_boxes", "segmentation_masks"}` too:
    masks are cropped as the images (resized with `"nearest"`, as `Resizing` does); boxes
    (in `bounding_box_format`) are moved into the window and clipped to it, x by the
    window's left and y by its top (Keras 3.15 swaps the two, fixed in
    keras-team/keras#23519; boxes in a relative format are relative to the input image,
    where Keras 3.15 reads them relative to the output size).

    Args:
        height: the output height.
        width: the output width.
        seed: the initial seed state of `layer.generator` (random when None), drawn from
            in training when `apply` gets no `rng`.
        data_format: `"channels_last"` (default) or `"channels_first"`.
        bounding_box_format: the format of the boxes of a dict input (e.g. `"xyxy"`).

    Input shape: `(batch, height, width, channels)` or one image (rank 3).

    Output shape: `(batch, height, width, channels)` with the target height and width.

    Example:
    >>> import jax, numpy as np
    >>> layer = RandomCrop(2, 2)
    >>> x = np.arange(16.0).reshape(1, 4, 4, 1)
    >>> y, _ = layer.apply({}, x, training=True, rng=jax.random.PRNGKey(0))
    >>> y.shape
    (1, 2, 2, 1)
    >>> layer.apply({}, x)[0][0, :, :, 0].tolist()  # inference: centered window, resized
    [[2.5, 4.5], [10.5, 12.5]]
    """

    _random = True

    def __init__(self, height, width, seed=None, data_format=None, name=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, name=name, **kwargs)
        self.height = _positive_int("RandomCrop", "height", height)
        self.width = _positive_int("RandomCrop", "width", width)
        self.input_spec = InputSpec(min_ndim=3, max_ndim=4)

    def get_random_transformation(self, images, training=True, draws=None):
        h, w = images.shape[self.height_axis], images.shape[self.width_axis]
        if not (training and h > self.height and w > self.width):
            return {"size": (h, w), "window": None}
        top = krandom.uniform((), 0, float(h - self.height + 1), seed=draws.next())
        left = krandom.uniform((), 0, float(w - self.width + 1), seed=draws.next())
        return {"size": (h, w), "window": (top.astype("int32"), left.astype("int32"))}

    def transform_images(self, images, transformation, training=True,
                         interpolation="bilinear"):
        x = as_float(self, images)
        if transformation["window"] is None:
            return resize(x, self.height, self.width, self.data_format, interpolation,
                          crop_to_aspect_ratio=True)
        axes = hw_axes(x, self.data_format)
        top, left = transformation["window"]
        x = jax.lax.dynamic_slice_in_dim(x, top, self.height, axis=axes[0])
        return jax.lax.dynamic_slice_in_dim(x, left, self.width, axis=axes[1])

    def transform_segmentation_masks(self, masks, transformation, training=True):
        return self.transform_images(masks, transformation, training, "nearest")

    def transform_bounding_boxes(self, bounding_boxes, transformation, training=True):
        (h, w), fmt = transformation["size"], self.bounding_box_format
        if transformation["window"] is None:
            return window_boxes(bounding_boxes, fmt, (h, w),
                                center_window(h, w, self.height, self.width),
                                (self.height, self.width))
        top, left = (v.astype("float32") for v in transformation["window"])
        bounding_boxes = bb.convert_format(bounding_boxes, fmt, "xyxy", height=h, width=w)
        x1, y1, x2, y2 = jnp.split(bounding_boxes["boxes"], 4, axis=-1)
        x1, x2 = (jnp.clip(v - left, 0, self.width) for v in (x1, x2))
        y1, y2 = (jnp.clip(v - top, 0, self.height) for v in (y1, y2))
        bounding_boxes["boxes"] = jnp.concatenate([x1, y1, x2, y2], axis=-1)
        return bb.convert_format(bounding_boxes, "xyxy", fmt, height=self.height,
                                 width=self.width)

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width,
                "seed": self.seed, "data_format": self.data_format}
