"""`kerax.utils.bounding_boxes` against `keras.utils.bounding_boxes`: every function on the
same boxes gives Keras' values; errors name what is wrong."""

import jax
import numpy as np
import pytest

from kerax.utils import bounding_boxes as bb

FORMATS = ["xyxy", "yxyx", "xywh", "center_xywh", "center_yxhw", "rel_xyxy", "rel_yxyx",
           "rel_xywh", "rel_center_xywh"]
RNG = np.random.default_rng(0)
_XY = RNG.uniform(0, 20, (2, 5, 2)).astype("float32")
BOXES = np.concatenate([_XY, _XY + RNG.uniform(1, 10, (2, 5, 2)).astype("float32")], -1)
BOXES[0, 4] = -1.0  # a padding box
OTHER = np.concatenate([_XY[:, :3] + 2.0, _XY[:, :3] + 6.0], -1)


def _close(got, want):
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("target", FORMATS)
@pytest.mark.parametrize("source", ["xyxy", "rel_xyxy", "center_yxhw", "rel_xywh"])
def test_convert_format_as_keras(keras, source, target):
    boxes = BOXES / 30.0 if source.startswith("rel") else BOXES
    want = keras.utils.bounding_boxes.convert_format(boxes, source, target, height=30,
                                                     width=25)
    _close(bb.convert_format(boxes, source, target, height=30, width=25), want)
    got = bb.convert_format({"boxes": boxes, "labels": np.ones((2, 5))}, source, target,
                            height=30, width=25)
    _close(got["boxes"], want)


@pytest.mark.parametrize("fmt,size", [("xyxy", (12, 15)), ("rel_xyxy", (None, None))])
def test_clip_to_image_size_as_keras(keras, fmt, size):
    boxes = BOXES / 20.0 if fmt == "rel_xyxy" else BOXES
    data = {"boxes": boxes, "labels": np.arange(10).reshape(2, 5).astype("int32")}
    want = keras.utils.bounding_boxes.clip_to_image_size(dict(data), *size,
                                                         bounding_box_format=fmt)
    got = bb.clip_to_image_size(data, *size, bounding_box_format=fmt)
    _close(got["boxes"], want["boxes"])
    np.testing.assert_array_equal(got["labels"], want["labels"])


def test_crop_pad_and_affine_as_keras(keras):
    kbb = keras.utils.bounding_boxes
    _close(bb.crop(BOXES, 2, 3, 10, 12), kbb.crop(BOXES, 2, 3, 10, 12))
    _close(bb.pad(BOXES, 2, 3), kbb.pad(BOXES, 2, 3))
    args = [RNG.uniform(-30, 30, 2).astype("float32"), RNG.uniform(-0.2, 0.2, 2).astype("float32"),
            RNG.uniform(-0.2, 0.2, 2).astype("float32"), RNG.uniform(0.8, 1.2, 2).astype("float32"),
            RNG.uniform(-10, 10, 2).astype("float32"), RNG.uniform(-10, 10, 2).astype("float32")]
    _close(bb.affine_transform(BOXES, *args, height=30, width=25),
           kbb.affine_transform(BOXES, *args, height=30, width=25))
    _close(bb.affine_transform(BOXES, *args, height=30, width=25, center_x=0.3, center_y=0.6),
           kbb.affine_transform(BOXES, *args, height=30, width=25, center_x=0.3, center_y=0.6))


@pytest.mark.parametrize("fmt", ["xyxy", "center_xywh", "rel_yxyx"])
def test_iou_as_keras(keras, fmt):
    kbb = keras.utils.bounding_boxes
    shape = (30, 25, 3)
    a, b = (bb.convert_format(v, "xyxy", fmt, 30, 25) for v in (BOXES, OTHER))
    for x, y in ((a, b), (a[0], b[0])):
        _close(bb.compute_iou(x, y, fmt, image_shape=shape),
               kbb.compute_iou(x, y, fmt, image_shape=shape))
        _close(bb.compute_iou(x, y, fmt, use_masking=True, mask_val=-2, image_shape=shape),
               kbb.compute_iou(x, y, fmt, use_masking=True, mask_val=-2, image_shape=shape))
    if not fmt.startswith("rel"):
        _close(bb.compute_ciou(a[:, :3], b, fmt), kbb.compute_ciou(a[:, :3], b, fmt))


@pytest.mark.parametrize("variance", [None, [0.1, 0.1, 0.2, 0.2]])
@pytest.mark.parametrize("encoding", ["center_yxhw", "center_xywh"])
def test_encode_and_decode_deltas_as_keras(keras, variance, encoding):
    kbb = keras.utils.bounding_boxes
    anchors, boxes = BOXES[1], np.concatenate([OTHER[1], OTHER[1] + 1.0])[:5]
    want = kbb.encode_box_to_deltas(anchors, boxes, "xyxy", "xyxy", encoding, variance)
    got = bb.encode_box_to_deltas(anchors, boxes, "xyxy", "xyxy", encoding, variance)
    _close(got, want)
    back = bb.decode_deltas_to_boxes(anchors, got, "xyxy", "xyxy", encoding, variance)
    _close(back, kbb.decode_deltas_to_boxes(anchors, np.asarray(want), "xyxy", "xyxy", encoding,
                                            variance))
    _close(back, boxes)
    levels = bb.decode_deltas_to_boxes({"p3": anchors}, {"p3": got}, "xyxy", "xyxy", encoding,
                                       variance)
    _close(levels["p3"], back)


def test_jit_and_grad():
    iou = jax.jit(lambda a, b: bb.compute_iou(a, b, "xyxy"))(BOXES[1], OTHER[1])
    _close(iou, bb.compute_iou(BOXES[1], OTHER[1], "xyxy"))
    grad = jax.grad(lambda a: bb.compute_ciou(a, OTHER[1, :1], "xyxy").sum())(BOXES[1, :1])
    assert np.isfinite(grad).all() and np.abs(grad).sum() > 0


def test_errors():
    with pytest.raises(ValueError, match=r"last dimension of 4. Received: boxes.shape=\(2, 3\)"):
        bb.convert_format(np.zeros((2, 3)), "xyxy", "yxyx")
    with pytest.raises(ValueError, match=r"Invalid source or target format.*"
                                         r"source='xxyy'"):
        bb.convert_format(BOXES, "xxyy", "xyxy")
    with pytest.raises(ValueError, match=r"must receive `height` and `width`.*"
                                         r"source='rel_xyxy'"):
        bb.convert_format(BOXES, "rel_xyxy", "xyxy")
    with pytest.raises(NotImplementedError, match=r"clip_to_image_size supports "
                                                  r"bounding_box_format 'xyxy' and 'rel_xyxy'"):
        bb.clip_to_image_size({"boxes": BOXES}, 10, 10, bounding_box_format="yxyx")
    with pytest.raises(ValueError, match=r"`height` and `width` must be set"):
        bb.clip_to_image_size({"boxes": BOXES})
    with pytest.raises(NotImplementedError, match=r"crop supports bounding_box_format='xyxy'"):
        bb.crop(BOXES, 0, 0, 5, 5, bounding_box_format="yxyx")
    with pytest.raises(ValueError, match=r"compute_iou\(\) expects boxes1 to be batched"):
        bb.compute_iou(np.zeros(4), BOXES, "xyxy")
    with pytest.raises(ValueError, match=r"`image_shape` argument must be provided"):
        bb.compute_iou(BOXES, BOXES, "rel_xyxy")
    with pytest.raises(ValueError, match=r"compute_ciou\(\) does not take relative"):
        bb.compute_ciou(BOXES, BOXES, "rel_xyxy")
    with pytest.raises(ValueError, match=r"`variance` must be length 4"):
        bb.encode_box_to_deltas(BOXES, BOXES, "xyxy", "xyxy", variance=[1.0, 2.0])
    with pytest.raises(ValueError, match=r"`encoding_format` should be one of"):
        bb.encode_box_to_deltas(BOXES, BOXES, "xyxy", "xyxy", encoding_format="xyxy")
