"""`draw_bounding_boxes`: boxes and labels drawn on images, as Keras 3, without OpenCV.

Keras draws with OpenCV (`cv2.rectangle`, `cv2.putText`). The rectangles here are the
same pixels as `cv2.rectangle` (lines `thickness` wide with round corners; checked against
OpenCV in the tests); labels are drawn with Pillow's default font where Keras uses
OpenCV's Hershey font, so the pixels of the text differ.
"""

import numpy as np

from kerax.backend import image_data_format

_TO_XYXY = {
    "xyxy": lambda b, h, w: b,
    "yxyx": lambda b, h, w: b[..., [1, 0, 3, 2]],
    "xywh": lambda b, h, w: np.concatenate([b[..., :2], b[..., :2] + b[..., 2:]], -1),
    "center_xywh": lambda b, h, w: np.concatenate(
        [b[..., :2] - b[..., 2:] / 2.0, b[..., :2] + b[..., 2:] / 2.0], -1),
    "center_yxhw": lambda b, h, w: _TO_XYXY["center_xywh"](b[..., [1, 0, 3, 2]], h, w),
    "rel_xyxy": lambda b, h, w: b * np.array([w, h, w, h], "float32"),
    "rel_yxyx": lambda b, h, w: b[..., [1, 0, 3, 2]] * np.array([w, h, w, h], "float32"),
    "rel_xywh": lambda b, h, w: _TO_XYXY["xywh"](b, h, w) * np.array([w, h, w, h], "float32"),
    "rel_center_xywh": lambda b, h, w: _TO_XYXY["center_xywh"](b, h, w) * np.array(
        [w, h, w, h], "float32"),
}


def convert_to_xyxy(boxes, bounding_box_format, height, width):
    """Boxes `(..., 4)` in `bounding_box_format` as float32 `xyxy` pixel corners.

    Example:
    >>> convert_to_xyxy(np.array([[2, 3, 4, 5]]), "xywh", 10, 10)
    array([[2., 3., 6., 8.]], dtype=float32)
    """
    boxes = np.asarray(boxes, "float32")
    if boxes.shape[-1] != 4:
        raise ValueError("`boxes` must be a tensor with the last dimension of 4. "
                         f"Received: boxes.shape={boxes.shape}")
    fmt = bounding_box_format.lower()
    if fmt not in _TO_XYXY:
        raise ValueError(f"Invalid source or target format. Supported formats: "
                         f"{list(_TO_XYXY)}. Received: bounding_box_format={fmt!r}")
    return _TO_XYXY[fmt](boxes, height, width).astype("float32")


def draw_bounding_boxes(images, bounding_boxes, bounding_box_format, class_mapping=None,
                        color=(128, 128, 128), line_thickness=2, text_thickness=1,
                        font_scale=1.0, data_format=None):
    """Draws bounding boxes (and class labels) on a batch of images (Keras 3's function).

    Args:
        images: a batch of images, `(batch, height, width, channels)`; floats in [0, 1]
            are scaled to [0, 255], as Keras.
        bounding_boxes: a dict with `"boxes"` `(batch, num_boxes, 4)`, `"labels"`
            `(batch, num_boxes)` (-1: no box) and optionally `"confidences"`.
        bounding_box_format: `"xyxy"`, `"yxyx"`, `"xywh"`, `"center_xywh"`,
            `"center_yxhw"` or a `"rel_"` variant.
        class_mapping: a dict from class id to the label drawn next to its boxes.
        color: the RGB color of boxes and labels.
        line_thickness: the boxes' line width in pixels.
        text_thickness: the labels' stroke width (None: `line_thickness`).
        font_scale: the labels' size (1.0: a text about 12 pixels high, as Keras).
        data_format: `"channels_last"` or `"channels_first"` (default: the config's).

    Returns:
        A uint8 NumPy array of the annotated images, shaped like `images`.

    Raises:
        ValueError: if `images` is not 4D or `bounding_boxes` lacks `boxes`/`labels`.
        TypeError: if `bounding_boxes` is not a dict.

    Example:
    >>> out = draw_bounding_boxes(np.zeros((1, 8, 8, 3)), {"boxes": [[[1, 1, 5, 5]]],
    ...                           "labels": [[0]]}, "xyxy", line_thickness=1)
    >>> out[0, 1, 1:6, 0]
    array([128, 128, 128, 128, 128], dtype=uint8)
    """
    class_mapping = class_mapping or {}
    text_thickness = text_thickness or line_thickness
    data_format = data_format or image_data_format()
    images = np.asarray(images)
    if images.ndim != 4:
        raise ValueError(
            f"`images` must be batched 4D tensor. Received: images.shape={images.shape}")
    if not isinstance(bounding_boxes, dict):
        raise TypeError(f"`bounding_boxes` should be a dict. Received: bounding_boxes="
                        f"{bounding_boxes} of type {type(bounding_boxes)}")
    if "boxes" not in bounding_boxes or "labels" not in bounding_boxes:
        raise ValueError("`bounding_boxes` should be a dict containing 'boxes' and 'labels' "
                         f"keys. Received: bounding_boxes={bounding_boxes}")
    h_axis, w_axis = (1, 2) if data_format == "channels_last" else (2, 3)
    height, width = images.shape[h_axis], images.shape[w_axis]
    boxes = convert_to_xyxy(bounding_boxes["boxes"], bounding_box_format, height, width)
    labels = np.asarray(bounding_boxes["labels"])
    confidences = bounding_boxes.get("confidences")
    if images.dtype.kind == "f" and images.size > 0:
        images = np.clip(images, 0, 1) * 255 if images.max() <= 1.0 else np.clip(images, 0, 255)
    images = images.astype("uint8")  # a copy: the input is not drawn on
    drawn = images if data_format == "channels_last" else np.moveaxis(images, 1, -1)
    confidences = None if confidences is None else np.asarray(confidences)
    for i, image in enumerate(drawn):
        for j, (box, c) in enumerate(zip(boxes[i].astype("int32"), labels[i].astype("int32"))):
            if c == -1:
                continue
            x1, y1, x2, y2 = (int(v) for v in box)
            _draw_rectangle(image, x1, y1, x2, y2, color, line_thickness)
            if int(c) in class_mapping:
                label = class_mapping[int(c)]
                if confidences is not None:
                    label = f"{label} | {confidences[i][j]:.2f}"
                _draw_text(image, label, _find_text_location(x1, y1, font_scale,
                                                              text_thickness),
                           color, font_scale)
    return images


def _fill(image, mask, color):
    """Sets the pixels of `mask` to `color` (OpenCV's scalar: missing channels 0)."""
    channels = image.shape[-1]
    value = np.zeros(channels, "float64")
    value[:min(channels, len(color))] = color[:channels]
    image[mask] = np.clip(np.round(value), 0, 255).astype(image.dtype)


def _draw_rectangle(image, x1, y1, x2, y2, color, thickness):
    """`cv2.rectangle`'s pixels: 1-pixel lines, or lines `2 * ((t + 1) // 2) + 1` wide
    with round corners for a thickness `t > 1`; a negative thickness fills."""
    yy, xx = np.mgrid[0:image.shape[0], 0:image.shape[1]]
    lo_x, hi_x, lo_y, hi_y = min(x1, x2), max(x1, x2), min(y1, y2), max(y1, y2)
    inside_x, inside_y = (xx >= lo_x) & (xx <= hi_x), (yy >= lo_y) & (yy <= hi_y)
    if thickness < 0:
        mask = inside_x & inside_y
    else:
        r = 0 if thickness <= 1 else (thickness + 1) // 2
        mask = ((np.abs(yy - lo_y) <= r) | (np.abs(yy - hi_y) <= r)) & inside_x
        mask |= ((np.abs(xx - lo_x) <= r) | (np.abs(xx - hi_x) <= r)) & inside_y
        for cx in (lo_x, hi_x):
            for cy in (lo_y, hi_y):
                mask |= (xx - cx) ** 2 + (yy - cy) ** 2 <= r * r
    _fill(image, mask, color)


def _draw_text(image, text, origin, color, font_scale):
    """Draws `text` with its baseline's left end at `origin` (as `cv2.putText`), with
    Pillow's default font at about OpenCV's size."""
    try:
        from PIL import Image, ImageDraw, ImageFont
    except ImportError:
        raise ImportError(
            "`draw_bounding_boxes` draws class labels with the optional package `pillow`, "
            "which is not installed. Install it with `pip install pillow`, or pass no "
            "`class_mapping`.") from None
    canvas = Image.new("L", (image.shape[1], image.shape[0]), 0)
    font = ImageFont.load_default(size=max(1, round(30 * font_scale)))
    ImageDraw.Draw(canvas).text(origin, text, fill=255, font=font, anchor="ls")
    _fill(image, np.asarray(canvas) > 127, color)


def _find_text_location(x, y, font_scale, thickness):
    """Keras' placement of a label: above the box, or inside it near the image's top."""
    font_height = int(font_scale * 12)
    if y - 8 - 2 * font_height > 0:
        return x, y - 8
    return x + 3, y + 2 * font_height + thickness + 3


__all__ = ["draw_bounding_boxes"]
