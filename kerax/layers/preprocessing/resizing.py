"""`Resizing` and `CenterCrop`: image size changes with `jax.image.resize` (no antialias)."""

import jax
import jax.numpy as jnp

from kerax.errors import unknown_identifier
from kerax.layers.preprocessing._base import as_float, data_format, hw_axes
from kerax.layers.preprocessing.image_layer import ImagePreprocessingLayer
from kerax.utils import bounding_boxes as bb

INTERPOLATIONS = ("bilinear", "nearest", "lanczos3", "lanczos5", "bicubic")


def _crop(x, axes, top, left, height, width):
    x = jax.lax.slice_in_dim(x, top, top + height, axis=axes[0])
    return jax.lax.slice_in_dim(x, left, left + width, axis=axes[1])


def _pad(x, axes, top, left, fill_value):
    pads = [(0, 0)] * x.ndim
    pads[axes[0]], pads[axes[1]] = (top, top), (left, left)
    return jnp.pad(x, pads, constant_values=fill_value)


def resize(x, height, width, fmt, interpolation="bilinear", antialias=False,
           crop_to_aspect_ratio=False, pad_to_aspect_ratio=False, fill_value=0.0):
    """Resizes images (rank 3 or 4) as Keras 3 does on JAX."""
    axes = hw_axes(x, fmt)
    h, w = x.shape[axes[0]], x.shape[axes[1]]
    if crop_to_aspect_ratio:
        ch = max(min(h, int(float(w * height) / width)), 1)
        cw = max(min(w, int(float(h * width) / height)), 1)
        x = _crop(x, axes, int(float(h - ch) / 2), int(float(w - cw) / 2), ch, cw)
    elif pad_to_aspect_ratio:
        ph = max(h, int(float(w * height) / width))
        pw = max(w, int(float(h * width) / height))
        x = _pad(x, axes, int(float(ph - h) / 2), int(float(pw - w) / 2), fill_value)
    shape = list(x.shape)
    shape[axes[0]], shape[axes[1]] = height, width
    return jax.image.resize(x, tuple(shape), method=interpolation, antialias=antialias)


def center_window(h, w, height, width):
    """`(top, left, crop_height, crop_width)`: the largest centered window of an `h` x `w`
    image with the aspect ratio of `height` x `width` (Keras' `smart_resize` crop)."""
    crop_h = max(min(h, int(float(w * height) / width)), 1)
    crop_w = max(min(w, int(float(h * width) / height)), 1)
    return int(float(h - crop_h) / 2), int(float(w - crop_w) / 2), crop_h, crop_w


def window_boxes(bounding_boxes, fmt, size, window, target):
    """Boxes (a dict, in `fmt`) of an image of `size` in the crop `window` (top, left,
    height, width) resized to `target`, clipped to it, as Keras' `CenterCrop` moves them;
    boxes left empty get label -1."""
    top, left, crop_h, crop_w = window
    bounding_boxes = bb.convert_format(bounding_boxes, fmt, "xyxy", height=size[0],
                                       width=size[1])
    x1, y1, x2, y2 = jnp.split(bounding_boxes["boxes"], 4, axis=-1)
    x1, x2 = (jnp.clip(v, left, left + crop_w) - left for v in (x1, x2))
    y1, y2 = (jnp.clip(v, top, top + crop_h) - top for v in (y1, y2))
    bounding_boxes["boxes"] = jnp.concatenate([x1, y1, x2, y2], axis=-1)
    if (crop_h, crop_w) != tuple(target):
        bounding_boxes = bb.convert_format(bounding_boxes, "xyxy", "rel_xyxy", height=crop_h,
                                           width=crop_w)
        bounding_boxes = bb.convert_format(bounding_boxes, "rel_xyxy", "xyxy",
                                           height=target[0], width=target[1])
    bounding_boxes = bb.clip_to_image_size(bounding_boxes, height=target[0], width=target[1])
    return bb.convert_format(bounding_boxes, "xyxy", fmt, height=target[0], width=target[1])


def _like_integer_input(y, dtype):
    """Integer images come back in their own dtype, rounded (half to even) and clipped to
    its range, as Keras' `Resizing` returns them; float images stay in the compute dtype."""
    if not jnp.issubdtype(dtype, jnp.integer):
        return y
    info = jnp.iinfo(dtype)
    return jnp.clip(jnp.round(y), info.min, info.max).astype(dtype)


class Resizing(ImagePreprocessingLayer):
    """Resizes images to `(height, width)`.

    Takes Keras' dict `{"images", "labels", "bounding_boxes", "segmentation_masks"}` too,
    as Keras 3: boxes (in `bounding_box_format`) are scaled (and shifted for
    `crop_to_aspect_ratio` / `pad_to_aspect_ratio`) with the image and clipped to it;
    masks are resized with `"nearest"` interpolation.

    Args:
        height, width: the output size.
        interpolation: `"bilinear"` (default), `"nearest"`, `"bicubic"`, `"lanczos3"`,
            `"lanczos5"` (as `jax.image.resize`, with `antialias=False` like Keras).
        crop_to_aspect_ratio: crop the largest centered window with the target aspect
            ratio first.
        pad_to_aspect_ratio: pad (with `fill_value`) to the target aspect ratio first.
        fill_mode: only `"constant"`.
        fill_value: the padding value.
        antialias: antialias when downsampling.
        data_format: `"channels_last"` (default) or `"channels_first"`.
        bounding_box_format: the format of the boxes of a dict input (e.g. `"xyxy"`).

    Input shape: `(batch, height, width, channels)` or one image (rank 3). Integer images
    (`uint8`, ...) come back in their dtype, rounded; float images in the compute dtype.

    Example:
    >>> import numpy as np
    >>> Resizing(2, 2)(np.ones((1, 4, 4, 3))).shape
    (1, 2, 2, 3)
    >>> Resizing(1, 2)(np.array([[[0], [3]], [[4], [8]]], "uint8"))[..., 0].tolist()
    [[2, 6]]
    >>> out = Resizing(2, 2, bounding_box_format="xyxy")(
    ...     {"images": np.ones((4, 4, 1)),
    ...      "bounding_boxes": {"boxes": [[0.0, 0.0, 2.0, 4.0]], "labels": [1]}})
    >>> out["bounding_boxes"]["boxes"].tolist()
    [[0.0, 0.0, 1.0, 2.0]]
    """

    def __init__(self, height, width, interpolation="bilinear", crop_to_aspect_ratio=False,
                 pad_to_aspect_ratio=False, fill_mode="constant", fill_value=0.0,
                 antialias=False, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        if interpolation not in INTERPOLATIONS:
            raise unknown_identifier("interpolation", interpolation, INTERPOLATIONS)
        if fill_mode != "constant":
            raise ValueError("Invalid value for argument `fill_mode`. Only `'constant'` is "
                             f"supported. Received: fill_mode={fill_mode}")
        if crop_to_aspect_ratio and pad_to_aspect_ratio:
            raise ValueError("Only one of `pad_to_aspect_ratio` & `crop_to_aspect_ratio` can "
                             "be `True`.")
        self.height, self.width = height, width
        self.interpolation = interpolation
        self.crop_to_aspect_ratio = crop_to_aspect_ratio
        self.pad_to_aspect_ratio = pad_to_aspect_ratio
        self.fill_mode, self.fill_value = fill_mode, fill_value
        self.antialias = bool(antialias)

    def _resize(self, x, interpolation):
        y = resize(as_float(self, x), self.height, self.width, self.data_format,
                   interpolation, self.antialias, self.crop_to_aspect_ratio,
                   self.pad_to_aspect_ratio, self.fill_value)
        return _like_integer_input(y, x.dtype)

    def get_random_transformation(self, images, training=True, draws=None):
        return images.shape[self.height_axis], images.shape[self.width_axis]

    def transform_images(self, images, transformation, training=True):
        return self._resize(jnp.asarray(images), self.interpolation)

    def transform_segmentation_masks(self, masks, transformation, training=True):
        return self._resize(jnp.asarray(masks), "nearest")

    def transform_bounding_boxes(self, bounding_boxes, transformation, training=True):
        h, w = transformation
        boxes = bounding_boxes["boxes"]
        empty = jnp.all(boxes == -1, axis=-1) | jnp.all(boxes == 0, axis=-1)
        bounding_boxes = bb.convert_format(bounding_boxes, self.bounding_box_format, "xyxy",
                                           height=h, width=w)
        bounding_boxes["boxes"] = self._transform_xyxy(bounding_boxes["boxes"], h, w)
        bounding_boxes = bb.clip_to_image_size(bounding_boxes, height=self.height,
                                               width=self.width)
        bounding_boxes["boxes"] = jnp.where(empty[..., None], 0.0, bounding_boxes["boxes"])
        return bb.convert_format(bounding_boxes, "xyxy", self.bounding_box_format,
                                 height=self.height, width=self.width)

    def _transform_xyxy(self, boxes, h, w):
        """Keras' `_transform_boxes_{pad_to_aspect_ratio,crop_to_aspect_ratio,stretch}`."""
        if self.crop_to_aspect_ratio:
            source, target = w / h, self.width / self.height
            new_w = self.height * source if source > target else self.width
            new_h = self.height if source > target else self.width / source
            scale_x, scale_y = new_w / w, new_h / h
            dx, dy = -((new_w - self.width) // 2), -((new_h - self.height) // 2)
        else:
            scale_y, scale_x = self.height / h, self.width / w
            dx = dy = 0.0
            if self.pad_to_aspect_ratio:
                scale_x = scale_y = min(scale_y, scale_x)
                dx, dy = (self.width - w * scale_x) // 2, (self.height - h * scale_y) // 2
        scale = jnp.asarray([scale_x, scale_y, scale_x, scale_y], "float32")
        offset = jnp.asarray([dx, dy, dx, dy], "float32")
        return boxes * scale.astype(boxes.dtype) + offset.astype(boxes.dtype)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format,
                "height": self.height, "width": self.width,
                "interpolation": self.interpolation,
                "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
                "pad_to_aspect_ratio": self.pad_to_aspect_ratio, "fill_mode": self.fill_mode,
                "fill_value": self.fill_value, "antialias": self.antialias}


_data_format = data_format


class CenterCrop(ImagePreprocessingLayer):
    """Crops the central `(height, width)` window of images.

    An image smaller than the target is first resized (bilinear, cropping to the target's
    aspect ratio), as Keras does. Takes Keras' dict `{"images", "labels",
    "bounding_boxes", "segmentation_masks"}` too, as Keras 3: boxes (in
    `bounding_box_format`) are cropped (and scaled) with the image and clipped to it;
    masks are cropped (or resized) as the images.

    Args:
        height, width: the output size.
        data_format: `"channels_last"` (default) or `"channels_first"`.
        bounding_box_format: the format of the boxes of a dict input (e.g. `"xyxy"`).

    Example:
    >>> import numpy as np
    >>> x = np.arange(16.0).reshape(1, 4, 4, 1)
    >>> CenterCrop(2, 2)(x)[0, :, :, 0].tolist()
    [[5.0, 6.0], [9.0, 10.0]]
    """

    def __init__(self, height, width, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.height, self.width = height, width

    def get_random_transformation(self, images, training=True, draws=None):
        return images.shape[self.height_axis], images.shape[self.width_axis]

    def transform_images(self, images, transformation, training=True):
        x = as_float(self, images)
        axes = hw_axes(x, self.data_format)
        h, w = x.shape[axes[0]], x.shape[axes[1]]
        if h >= self.height and w >= self.width:
            top, left = (h - self.height) // 2, (w - self.width) // 2
            return _crop(x, axes, top, left, self.height, self.width)
        return resize(x, self.height, self.width, self.data_format,
                      crop_to_aspect_ratio=True)

    def transform_segmentation_masks(self, masks, transformation, training=True):
        return self.transform_images(masks, transformation, training)

    def transform_bounding_boxes(self, bounding_boxes, transformation, training=True):
        h, w = transformation
        if h >= self.height and w >= self.width:
            window = (int((h - self.height) / 2), int((w - self.width) / 2), self.height,
                      self.width)
        else:
            window = center_window(h, w, self.height, self.width)
        return window_boxes(bounding_boxes, self.bounding_box_format, (h, w), window,
                            (self.height, self.width))

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format,
                "height": self.height, "width": self.width}
