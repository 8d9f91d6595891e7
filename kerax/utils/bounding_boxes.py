"""Keras 3's bounding-box utilities (`keras.utils.bounding_boxes`), over `jax.numpy`.

Boxes are arrays whose last axis holds 4 numbers in one of Keras' formats:
`xyxy`, `yxyx`, `xywh`, `center_xywh`, `center_yxhw` (pixels) and `rel_xyxy`, `rel_yxyx`,
`rel_xywh`, `rel_center_xywh` (fractions of the image's width and height). A dict
`{"boxes": ..., "labels": ...}` is accepted where Keras accepts one.
"""

import math

import jax.numpy as jnp

from kerax.backend import config as _config

_SUPPORTED_FORMATS = ("xyxy", "yxyx", "xywh", "center_xywh", "center_yxhw", "rel_xyxy",
                     "rel_yxyx", "rel_xywh", "rel_center_xywh")


def _cat(*parts):
    return jnp.concatenate(parts, axis=-1)


def _split(boxes):
    return jnp.split(boxes, 4, axis=-1)


def _centre_to_xyxy(cx, cy, w, h):
    return _cat(cx - w / 2.0, cy - h / 2.0, cx + w / 2.0, cy + h / 2.0)


_TO_XYXY = {
    "xyxy": lambda b, h, w: b,
    "yxyx": lambda b, h, w: (lambda y1, x1, y2, x2: _cat(x1, y1, x2, y2))(*_split(b)),
    "xywh": lambda b, h, w: (lambda x, y, bw, bh: _cat(x, y, x + bw, y + bh))(*_split(b)),
    "center_xywh": lambda b, h, w: _centre_to_xyxy(*_split(b)),
    "center_yxhw": lambda b, h, w: (
        lambda cy, cx, bh, bw: _centre_to_xyxy(cx, cy, bw, bh))(*_split(b)),
    "rel_xyxy": lambda b, h, w: (
        lambda x1, y1, x2, y2: _cat(x1 * w, y1 * h, x2 * w, y2 * h))(*_split(b)),
    "rel_yxyx": lambda b, h, w: (
        lambda y1, x1, y2, x2: _cat(x1 * w, y1 * h, x2 * w, y2 * h))(*_split(b)),
    "rel_xywh": lambda b, h, w: (
        lambda x, y, bw, bh: _cat(x * w, y * h, (x + bw) * w, (y + bh) * h))(*_split(b)),
    "rel_center_xywh": lambda b, h, w: (
        lambda cx, cy, bw, bh: _cat((cx - bw / 2.0) * w, (cy - bh / 2.0) * h,
                                    (cx + bw / 2.0) * w, (cy + bh / 2.0) * h))(*_split(b)),
}


def _from_xyxy(target, b, h, w):
    x1, y1, x2, y2 = _split(b)
    if target == "xyxy":
        return b
    if target == "yxyx":
        return _cat(y1, x1, y2, x2)
    if target == "xywh":
        return _cat(x1, y1, x2 - x1, y2 - y1)
    cx, cy = x1 + (x2 - x1) / 2.0, y1 + (y2 - y1) / 2.0
    if target == "center_xywh":
        return _cat(cx, cy, x2 - x1, y2 - y1)
    if target == "center_yxhw":
        return _cat(cy, cx, y2 - y1, x2 - x1)
    if target == "rel_xyxy":
        return _cat(x1 / w, y1 / h, x2 / w, y2 / h)
    if target == "rel_yxyx":
        return _cat(y1 / h, x1 / w, y2 / h, x2 / w)
    if target == "rel_xywh":
        return _cat(x1 / w, y1 / h, (x2 - x1) / w, (y2 - y1) / h)
    return _cat(cx / w, cy / h, (x2 - x1) / w, (y2 - y1) / h)  # rel_center_xywh


def convert_format(boxes, source, target, height=None, width=None, dtype="float32"):
    """Converts boxes from the `source` format to the `target` format (as Keras 3).

    Args:
        boxes: an array `(..., 4)`, or a dict with a `"boxes"` entry (converted in a copy).
        source, target: formats: `xyxy`, `yxyx`, `xywh`, `center_xywh`, `center_yxhw`,
            `rel_xyxy`, `rel_yxyx`, `rel_xywh` or `rel_center_xywh`.
        height, width: the image size; needed between relative and absolute formats.
        dtype: the dtype of the result (default float32).

    Returns:
        The converted boxes (a dict when given one).

    Raises:
        ValueError: the last axis is not 4, a format is unknown, or the image size is
            missing for a relative format.

    Example:
    >>> convert_format([[10.0, 20.0, 30.0, 60.0]], "xyxy", "center_xywh").tolist()
    [[20.0, 40.0, 20.0, 40.0]]
    """
    if isinstance(boxes, dict):
        return {**boxes, "boxes": convert_format(boxes["boxes"], source, target, height,
                                                 width, dtype)}
    boxes = jnp.asarray(boxes)
    if boxes.shape[-1:] != (4,):
        raise ValueError("`boxes` must be a tensor with the last dimension of 4. Received: "
                         f"boxes.shape={boxes.shape}")
    source, target = source.lower(), target.lower()
    if source not in _SUPPORTED_FORMATS or target not in _SUPPORTED_FORMATS:
        raise ValueError("Invalid source or target format. Supported formats: "
                         f"{_SUPPORTED_FORMATS}. Received: source={source!r}, "
                         f"target={target!r}")
    if (source.startswith("rel_") or target.startswith("rel_")) and (
            width is None or height is None):
        raise ValueError(
            "convert_format() must receive `height` and `width` transforming between "
            f"relative and absolute formats. Received: source={source!r}, "
            f"target={target!r}, height={height}, width={width}.")
    boxes = boxes.astype(dtype)
    if source == target:
        return boxes
    if width is not None:
        width = jnp.asarray(width).astype(dtype)
    if height is not None:
        height = jnp.asarray(height).astype(dtype)
    if source.startswith("rel_") and target.startswith("rel_"):
        source, target = source[4:], target[4:]
    return _from_xyxy(target, _TO_XYXY[source](boxes, height, width), height, width)


def _area(boxes):
    x1, y1, x2, y2 = _split(boxes)
    return (x2 - x1) * (y2 - y1)


def clip_to_image_size(bounding_boxes, height=None, width=None, bounding_box_format="xyxy"):
    """Clips boxes to the image; labels of boxes left with no area become -1 (as Keras 3).

    Args:
        bounding_boxes: a dict `{"boxes": ..., "labels": ...}` (labels optional).
        height, width: the image size (needed for `"xyxy"`).
        bounding_box_format: `"xyxy"` or `"rel_xyxy"`.

    Returns:
        A new dict with the clipped boxes and labels.

    Example:
    >>> out = clip_to_image_size({"boxes": [[-5.0, 2.0, 8.0, 20.0], [12.0, 0.0, 15.0, 4.0]],
    ...                           "labels": [1, 2]}, height=10, width=10)
    >>> out["boxes"].tolist(), out["labels"].tolist()
    ([[0.0, 2.0, 8.0, 10.0], [10.0, 0.0, 10.0, 4.0]], [1, -1])
    """
    if bounding_box_format not in ("xyxy", "rel_xyxy"):
        raise NotImplementedError(
            "clip_to_image_size supports bounding_box_format 'xyxy' and 'rel_xyxy' (as "
            f"Keras 3). Received: bounding_box_format={bounding_box_format!r}. Convert the "
            "boxes with `convert_format` first.")
    if bounding_box_format == "xyxy" and (height is None or width is None):
        raise ValueError("`height` and `width` must be set if `format='xyxy'`.")
    boxes = jnp.asarray(bounding_boxes["boxes"])
    labels = bounding_boxes.get("labels")
    if bounding_box_format == "xyxy":
        height = jnp.asarray(height).astype(boxes.dtype)
        width = jnp.asarray(width).astype(boxes.dtype)
    else:
        height = width = 1.0
    x1, y1, x2, y2 = _split(boxes)
    boxes = _cat(jnp.clip(x1, 0, width), jnp.clip(y1, 0, height), jnp.clip(x2, 0, width),
                 jnp.clip(y2, 0, height))
    result = {**bounding_boxes, "boxes": boxes}
    if labels is not None:
        result["labels"] = jnp.where(_area(boxes)[..., 0] > 0, jnp.asarray(labels), -1)
    return result


def _xyxy_only(name, bounding_box_format):
    if bounding_box_format != "xyxy":
        raise NotImplementedError(
            f"{name} supports bounding_box_format='xyxy' only (as Keras 3). Received: "
            f"bounding_box_format={bounding_box_format!r}. Convert the boxes with "
            "`convert_format` first.")


def crop(boxes, top, left, height, width, bounding_box_format="xyxy"):
    """Boxes in the frame of the crop `(top, left, height, width)`, clipped to it.

    Example:
    >>> crop(jnp.array([[2.0, 2.0, 6.0, 6.0]]), top=3, left=1, height=2, width=4).tolist()
    [[1.0, 0.0, 4.0, 2.0]]
    """
    _xyxy_only("crop", bounding_box_format)
    x1, y1, x2, y2 = _split(jnp.asarray(boxes))
    return _cat(jnp.clip(x1 - left, 0, width), jnp.clip(y1 - top, 0, height),
                jnp.clip(x2 - left, 0, width), jnp.clip(y2 - top, 0, height))


def pad(boxes, top, left, height=None, width=None, bounding_box_format="xyxy"):
    """Boxes shifted by the padding `top` and `left` (as Keras 3, `height` and `width`
    are not used).

    Example:
    >>> pad(jnp.array([[1.0, 1.0, 2.0, 2.0]]), top=3, left=1).tolist()
    [[2.0, 4.0, 3.0, 5.0]]
    """
    _xyxy_only("pad", bounding_box_format)
    x1, y1, x2, y2 = _split(jnp.asarray(boxes))
    return _cat(x1 + left, y1 + top, x2 + left, y2 + top)


def _inverse_affine_matrix(center_x, center_y, angle, translate_x, translate_y, scale,
                           shear_x, shear_y, height, width):
    """Keras' `_compute_inverse_affine_matrix` (angles in degrees), shape (batch, 3, 3)."""
    n, dtype = angle.shape[0], angle.dtype
    cx, cy = center_x * (width - 1), center_y * (height - 1)
    rot = -angle * (1.0 / 180.0 * math.pi)
    tx, ty = translate_x * (width - 1), translate_y * (height - 1)
    sx, sy = -shear_x * (1.0 / 180.0 * math.pi), -shear_y * (1.0 / 180.0 * math.pi)
    cos_sy, tan_sx = jnp.cos(sy), jnp.tan(sx)
    a = jnp.cos(rot - sy) / cos_sy
    b = a * tan_sx + jnp.sin(rot)
    c = -jnp.sin(rot - sy) / cos_sy
    d = jnp.cos(rot) - c * tan_sx
    a0, a1, b0, b1 = d * scale, -b * scale, -c * scale, a * scale
    a2 = cx - a0 * (cx - tx) - a1 * (cy - ty)
    b2 = cy - b0 * (cx - tx) - b1 * (cy - ty)
    zeros, ones = jnp.zeros([n], dtype), jnp.ones([n], dtype)
    return jnp.stack([a0, a1, a2, b0, b1, b2, zeros, zeros, ones], -1).reshape(n, 3, 3)


def affine_transform(boxes, angle, translate_x, translate_y, scale, shear_x, shear_y,
                     height, width, center_x=None, center_y=None, bounding_box_format="xyxy"):
    """The boxes enclosing each box's four corners after an affine map (as Keras 3).

    Args:
        boxes: `(batch, num_boxes, 4)` in `"xyxy"`.
        angle, shear_x, shear_y: per image, in degrees; translate_x, translate_y: per
            image, fractions of the width and height; scale: per image.
        height, width: the image size; center_x, center_y: the centre as a fraction
            (default 0.5).

    Example:
    >>> import numpy as np
    >>> z = np.zeros(1, "float32")
    >>> affine_transform(np.array([[[0.0, 0.0, 2.0, 2.0]]]), z, z + 0.5, z, z + 1, z, z,
    ...                  height=5, width=5).tolist()
    [[[2.0, 0.0, 4.0, 2.0]]]
    """
    _xyxy_only("affine_transform", bounding_box_format)
    angle = jnp.asarray(angle)
    matrix = _inverse_affine_matrix(0.5 if center_x is None else center_x,
                                    0.5 if center_y is None else center_y, angle,
                                    translate_x, translate_y, scale, shear_x, shear_y,
                                    height, width)
    boxes = jnp.asarray(boxes).astype(matrix.dtype)
    n, count = boxes.shape[0], boxes.shape[1]
    p = boxes
    points = jnp.stack([p[..., 0], p[..., 1], p[..., 2], p[..., 1], p[..., 2], p[..., 3],
                        p[..., 0], p[..., 3]], -1).reshape(n, count, 4, 2)
    points = jnp.concatenate([points, jnp.ones([n, count, 4, 1], points.dtype)], -1)
    moved = jnp.einsum("bnxy,byz->bnxz", points, jnp.transpose(matrix[:, :2, :], [0, 2, 1]))
    return jnp.concatenate([moved.min(axis=2), moved.max(axis=2)], -1)


def _yxyx_area(boxes):
    y1, x1, y2, x2 = _split(boxes[..., :4])
    return ((y2 - y1) * (x2 - x1))[..., 0]


def _intersection(boxes1, boxes2):
    y1a, x1a, y2a, x2a = _split(boxes1[..., :4])
    y1b, x1b, y2b, x2b = (jnp.swapaxes(v, -1, -2) for v in _split(boxes2[..., :4]))
    height = jnp.maximum(0.0, jnp.minimum(y2a, y2b) - jnp.maximum(y1a, y1b))
    width = jnp.maximum(0.0, jnp.minimum(x2a, x2b) - jnp.maximum(x1a, x1b))
    return height * width


def _image_size(image_shape):
    return (None, None) if image_shape is None else tuple(image_shape[:2])


def compute_iou(boxes1, boxes2, bounding_box_format, use_masking=False, mask_val=-1,
                image_shape=None):
    """The intersection over union of every box of `boxes1` with every box of `boxes2`.

    Args:
        boxes1, boxes2: `(N, 4)` and `(M, 4)`, or batched `(B, N, 4)` and `(B, M, 4)`.
        bounding_box_format: their format.
        use_masking: give pairs with a padding box (all coordinates negative) `mask_val`.
        image_shape: `(height, width, channels)`; needed for relative formats.

    Returns:
        `(N, M)` (or `(B, N, M)`) IoUs, as Keras 3 computes them (`+ epsilon` below).

    Example:
    >>> iou = compute_iou(jnp.array([[0.0, 0.0, 2.0, 2.0]]),
    ...                   jnp.array([[1.0, 0.0, 3.0, 2.0]]), "xyxy")
    >>> iou.shape, round(float(iou[0, 0]), 4)
    ((1, 1), 0.3333)
    """
    boxes1, boxes2 = jnp.asarray(boxes1), jnp.asarray(boxes2)
    for name, boxes in (("boxes1", boxes1), ("boxes2", boxes2)):
        if boxes.ndim not in (2, 3):
            raise ValueError(
                f"compute_iou() expects {name} to be batched (rank 3) or unbatched (rank 2). "
                f"Received: boxes1.shape={boxes1.shape}, boxes2.shape={boxes2.shape}.")
    if "rel" in bounding_box_format and image_shape is None:
        raise ValueError("When using relative bounding box formats (e.g. `rel_yxyx`) the "
                         "`image_shape` argument must be provided. Received `image_shape`: "
                         f"{image_shape}")
    height, width = _image_size(image_shape)
    boxes1 = convert_format(boxes1, bounding_box_format, "yxyx", height, width)
    boxes2 = convert_format(boxes2, bounding_box_format, "yxyx", height, width)
    intersection = _intersection(boxes1, boxes2)
    area1 = _yxyx_area(boxes1)[..., None]
    area2 = jnp.expand_dims(_yxyx_area(boxes2), 1 if boxes2.ndim == 3 else 0)
    iou = intersection / (area1 + area2 - intersection + _config.epsilon())
    if not use_masking:
        return iou
    pad1 = jnp.max(boxes1, axis=-1, keepdims=True) < 0.0
    pad2 = jnp.swapaxes(jnp.max(boxes2, axis=-1, keepdims=True) < 0.0, -1, -2)
    return jnp.where(pad1 | pad2, jnp.asarray(mask_val, iou.dtype), iou)


def compute_ciou(boxes1, boxes2, bounding_box_format, image_shape=None):
    """The complete IoU of `boxes1[..., i]` with `boxes2[..., i]` (pairwise, as Keras 3).

    Example:
    >>> box = jnp.array([[0.0, 0.0, 2.0, 2.0]])
    >>> compute_ciou(box, box, "xyxy").round(4).tolist()
    [1.0]
    """
    if "rel" in bounding_box_format:
        raise ValueError("compute_ciou() does not take relative bounding box formats (e.g. "
                         f"`rel_yxyx`), as in Keras 3. Received: {bounding_box_format!r}. "
                         "Convert the boxes with `convert_format` first.")
    height, width = _image_size(image_shape)
    eps = _config.epsilon()
    x1a, y1a, x2a, y2a = _split(convert_format(boxes1, bounding_box_format, "xyxy", height,
                                               width)[..., :4])
    x1b, y1b, x2b, y2b = _split(convert_format(boxes2, bounding_box_format, "xyxy", height,
                                               width)[..., :4])
    w1, h1 = x2a - x1a, y2a - y1a + eps
    w2, h2 = x2b - x1b, y2b - y1b + eps
    inter = (jnp.maximum(jnp.minimum(x2a, x2b) - jnp.maximum(x1a, x1b), 0)
             * jnp.maximum(jnp.minimum(y2a, y2b) - jnp.maximum(y1a, y1b), 0))
    union = w1 * h1 + w2 * h2 - inter + eps
    iou = (inter / (union + eps))[..., 0]
    diagonal = ((jnp.maximum(x2a, x2b) - jnp.minimum(x1a, x1b)) ** 2
                + (jnp.maximum(y2a, y2b) - jnp.minimum(y1a, y1b)) ** 2 + eps)[..., 0]
    centres = (((x1a + x2a) / 2 - (x1b + x2b) / 2) ** 2
               + ((y1a + y2a) / 2 - (y1b + y2b) / 2) ** 2)[..., 0]
    v = (4 / math.pi ** 2 * (jnp.arctan(w2 / h2) - jnp.arctan(w1 / h1)) ** 2)[..., 0]
    alpha = v / (v - iou + (1 + eps))
    return iou - (centres / diagonal + v * alpha)


def _variance(variance):
    if variance is None:
        return None
    variance = jnp.asarray(variance, "float32")
    if variance.shape[-1] != 4:
        raise ValueError(f"`variance` must be length 4, got {variance}")
    return variance


def encode_box_to_deltas(anchors, boxes, anchor_format, box_format,
                         encoding_format="center_yxhw", variance=None, image_shape=None):
    """The offsets of `boxes` from `anchors` (centre shift over size, log size ratio).

    Example:
    >>> encode_box_to_deltas(jnp.array([[0.0, 0.0, 2.0, 2.0]]),
    ...                      jnp.array([[1.0, 0.0, 3.0, 2.0]]), "xyxy", "xyxy").tolist()
    [[0.0, 0.5, 0.0, 0.0]]
    """
    variance = _variance(variance)
    if encoding_format not in ("center_xywh", "center_yxhw"):
        raise ValueError("`encoding_format` should be one of 'center_xywh' or 'center_yxhw', "
                         f"got {encoding_format}")
    height, width = _image_size(image_shape)
    anchors = convert_format(anchors, anchor_format, encoding_format, height, width)
    boxes = convert_format(boxes, box_format, encoding_format, height, width)
    anchor_size = jnp.maximum(anchors[..., 2:], _config.epsilon())
    box_size = jnp.maximum(boxes[..., 2:], _config.epsilon())
    deltas = jnp.concatenate([(boxes[..., :2] - anchors[..., :2]) / anchor_size,
                              jnp.log(box_size / anchor_size)], axis=-1)
    return deltas if variance is None else deltas / variance


def decode_deltas_to_boxes(anchors, boxes_delta, anchor_format, box_format,
                           encoded_format="center_yxhw", variance=None, image_shape=None):
    """The boxes that `boxes_delta` encode relative to `anchors` (dicts decode per level).

    Example:
    >>> decode_deltas_to_boxes(jnp.array([[0.0, 0.0, 2.0, 2.0]]),
    ...                        jnp.array([[0.0, 0.5, 0.0, 0.0]]), "xyxy", "xyxy").tolist()
    [[1.0, 0.0, 3.0, 2.0]]
    """
    variance = _variance(variance)
    if encoded_format not in ("center_xywh", "center_yxhw"):
        raise ValueError("`encoded_format` should be 'center_xywh' or 'center_yxhw', but got "
                         f"'{encoded_format}'.")
    height, width = _image_size(image_shape)

    def level(anchor, delta):
        anchor = convert_format(anchor, anchor_format, encoded_format, height, width)
        delta = jnp.asarray(delta)
        if variance is not None:
            delta = delta * variance
        box = jnp.concatenate([delta[..., :2] * anchor[..., 2:] + anchor[..., :2],
                               jnp.exp(delta[..., 2:]) * anchor[..., 2:]], axis=-1)
        return convert_format(box, encoded_format, box_format, height, width)

    if isinstance(anchors, dict) and isinstance(boxes_delta, dict):
        return {name: level(anchor, boxes_delta[name]) for name, anchor in anchors.items()}
    return level(anchors, boxes_delta)


# __all__ is generated by `python -m kerax._exports` (tests check it is current).
__all__ = [
    "affine_transform", "clip_to_image_size", "compute_ciou", "compute_iou", "convert_format",
    "crop", "decode_deltas_to_boxes", "encode_box_to_deltas", "pad",
]
