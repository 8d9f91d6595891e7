"""The geometric image layers on Keras' dict input (images, labels, bounding boxes in
several formats, segmentation masks) against Keras 3: with the same seed, two eager calls
return what Keras returns; configs round trip; in `fit` nothing recompiles."""

import numpy as np
import pytest

import kerax.layers as kl
from tests.layers.test_image_aug import _close, _copy, _fits_without_recompiles

RNG = np.random.default_rng(1)
IMAGES = RNG.uniform(0, 255, (3, 9, 7, 3)).astype("float32")
MASKS = RNG.integers(0, 4, (3, 9, 7, 1)).astype("float32")
XYXY = np.array([[[1, 1, 4, 5], [2, 0, 6, 8], [0, 0, 0, 0]]] * 3, "float32")
LABELS = np.array([[1, 2, -1]] * 3, "int32")
FORMATS = ["xyxy", "rel_xyxy", "center_yxhw"]


def _data(keras, fmt, channels_first=False):
    boxes = np.asarray(keras.utils.bounding_boxes.convert_format(XYXY, "xyxy", fmt,
                                                                 height=9, width=7))
    data = {"images": IMAGES, "labels": np.arange(3.0), "segmentation_masks": MASKS,
            "bounding_boxes": {"boxes": boxes, "labels": LABELS}}
    if channels_first:
        data["images"] = np.moveaxis(IMAGES, -1, 1)
        data["segmentation_masks"] = np.moveaxis(MASKS, -1, 1)
    return data


# Keras 3.15 reads these layers' boxes as "xyxy" whatever `bounding_box_format` is; kerax
# converts them: compared with Keras run on "xyxy" boxes, converted.
XYXY_ONLY = ("RandomRotation",)


def _keras_call(keras, layer, data, fmt):
    if type(layer).__name__ not in XYXY_ONLY or fmt == "xyxy":
        return layer(_copy(data))
    convert = keras.utils.bounding_boxes.convert_format
    h, w = np.shape(data["images"])[-3:-1] if layer.data_format == "channels_last" else \
        np.shape(data["images"])[-2:]
    data = _copy(data)
    data["bounding_boxes"]["boxes"] = np.asarray(
        convert(data["bounding_boxes"]["boxes"], fmt, "xyxy", height=h, width=w))
    layer.bounding_box_format = "xyxy"
    out = layer(data)
    layer.bounding_box_format = fmt
    out["bounding_boxes"]["boxes"] = np.asarray(
        convert(out["bounding_boxes"]["boxes"], "xyxy", fmt, height=h, width=w))
    return out


def _as_keras(keras, name, fmt, calls=2, **kwargs):
    """Two eager calls on the dict (and one on a single image) equal Keras' calls."""
    data = _data(keras, fmt, kwargs.get("data_format") == "channels_first")
    theirs = getattr(keras.layers, name)(bounding_box_format=fmt, name="l", **kwargs)
    ours = getattr(kl, name)(bounding_box_format=fmt, name="l", **kwargs)
    for _ in range(calls):
        _close(ours(data), _keras_call(keras, theirs, data, fmt))
    single = {"images": data["images"][0], "segmentation_masks": data["segmentation_masks"][0],
              "bounding_boxes": {k: v[0] for k, v in data["bounding_boxes"].items()}}
    _close(ours(single), _keras_call(keras, theirs, single, fmt))
    _close(ours(data["images"]), theirs(np.array(data["images"])))
    if hasattr(theirs, "generator"):
        assert np.asarray(ours.generator.state).tolist() == np.asarray(
            theirs.generator.state.value).tolist()
    assert ours.get_config() == theirs.get_config()
    assert getattr(kl, name).from_config(ours.get_config()).get_config() == ours.get_config()
    return ours


RESIZING = [dict(height=5, width=4), dict(height=12, width=6, interpolation="nearest"),
            dict(height=6, width=6, crop_to_aspect_ratio=True),
            dict(height=6, width=4, pad_to_aspect_ratio=True, fill_value=3.0),
            dict(height=4, width=8, pad_to_aspect_ratio=True),
            dict(height=5, width=5, data_format="channels_first")]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kwargs", RESIZING, ids=range(len(RESIZING)))
def test_resizing_as_keras(keras, kwargs, fmt):
    _as_keras(keras, "Resizing", fmt, calls=1, **kwargs)


def test_resizing_in_fit():
    _fits_without_recompiles(kl.Resizing(4, 4))


CENTER_CROP = [dict(height=5, width=4), dict(height=9, width=7), dict(height=12, width=6),
               dict(height=4, width=9), dict(height=6, width=5, data_format="channels_first")]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kwargs", CENTER_CROP, ids=range(len(CENTER_CROP)))
def test_center_crop_as_keras(keras, kwargs, fmt):
    _as_keras(keras, "CenterCrop", fmt, calls=1, **kwargs)


def test_center_crop_in_fit():
    _fits_without_recompiles(kl.CenterCrop(6, 5))


def _crop_reference(keras, boxes, fmt, window, size, target):
    """Boxes moved into the crop `window` (top, left) and clipped to it: Keras' RandomCrop
    with keras-team/keras#23519 (x by left, y by top), relative boxes read in the input."""
    convert = keras.utils.bounding_boxes.convert_format
    xyxy = np.asarray(convert(np.array(boxes), fmt, "xyxy", height=size[0], width=size[1]))
    top, left = (float(v) for v in window)
    xyxy = np.clip(xyxy - [left, top, left, top], 0, [target[1], target[0]] * 2)
    return np.asarray(convert(xyxy.astype("float32"), "xyxy", fmt, height=target[0],
                              width=target[1]))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kwargs", [dict(height=5, width=4, seed=3),
                                    dict(height=2, width=6, seed=8),
                                    dict(height=4, width=3, seed=1,
                                         data_format="channels_first")],
                         ids=range(3))
def test_random_crop_as_keras(keras, kwargs, fmt):
    data = _data(keras, fmt, kwargs.get("data_format") == "channels_first")
    theirs = keras.layers.RandomCrop(bounding_box_format=fmt, name="c", **kwargs)
    draws = keras.layers.RandomCrop(**kwargs)  # Keras' crop windows, drawn alongside
    ours = kl.RandomCrop(bounding_box_format=fmt, name="c", **kwargs)
    target = (kwargs["height"], kwargs["width"])
    for _ in range(2):
        window = draws.get_random_transformation(data["images"], training=True)
        got, want = ours(data), theirs(_copy(data))
        want["bounding_boxes"]["boxes"] = _crop_reference(
            keras, data["bounding_boxes"]["boxes"], fmt, window, (9, 7), target)
        _close(got, want)
        assert not np.allclose(got["bounding_boxes"]["boxes"], data["bounding_boxes"]["boxes"])
    assert np.asarray(ours.generator.state).tolist() == np.asarray(
        theirs.generator.state.value).tolist()
    _close(ours(data["images"]), theirs(data["images"]))
    assert ours.get_config() == theirs.get_config()
    assert kl.RandomCrop.from_config(ours.get_config()).get_config() == ours.get_config()


@pytest.mark.parametrize("fmt", ["xyxy", "rel_yxyx"])
@pytest.mark.parametrize("size", [(9, 4), (12, 6), (3, 7)])
def test_random_crop_centered_as_keras_center_crop(keras, size, fmt):
    """Images not larger than the target on both sides: no draw (as Keras), the centered
    window, boxes as Keras' `CenterCrop` moves them."""
    data = _data(keras, fmt)
    del data["segmentation_masks"]
    ours = kl.RandomCrop(*size, seed=2, bounding_box_format=fmt)
    want = keras.layers.CenterCrop(*size, bounding_box_format=fmt)(_copy(data))
    _close(ours(data), want)
    assert np.asarray(ours.generator.state).tolist() == [2, 0]
    if size[0] <= 9 and size[1] <= 7:  # Keras' training crop here is the centered one
        keras_crop = keras.layers.RandomCrop(*size, seed=2)(data["images"])
        _close(ours(data["images"]), keras_crop)


def test_random_crop_boxes_at_inference_follow_the_resized_window(keras):
    """At inference the image is Keras' `Resizing(crop_to_aspect_ratio=True)` of it (the
    centered 7 x 7 window from row 1, scaled by 4 / 7); the boxes move with it. (Keras'
    `Resizing` floors the window's offset in output pixels, here to 0 instead of 4 / 7.)"""
    data = _data(keras, "xyxy")
    got = kl.RandomCrop(4, 4, bounding_box_format="xyxy")(data, training=False)
    want = keras.layers.Resizing(4, 4, crop_to_aspect_ratio=True)(data["images"])
    _close(got["images"], want)
    boxes = np.clip(XYXY - [0, 1, 0, 1], 0, 7) * 4 / 7
    _close(got["bounding_boxes"], {"boxes": boxes.astype("float32"), "labels": LABELS})


def test_random_crop_box_offsets_of_keras_23519(keras):
    """keras-team/keras#23519 (merged after Keras 3.15): x moves by the window's left and
    y by its top, clipped to the crop, labels kept. Its example: box [3, 4, 5, 5], window
    top 3, left 1, crop 2 x 4 -> [2, 1, 4, 2] (Keras 3.15 swaps the offsets: [0, 3, 2,
    4]). Where the swap does not matter (top == left, boxes inside the crop), kerax
    returns what Keras 3.15 returns."""
    layer = kl.RandomCrop(2, 4, bounding_box_format="xyxy")
    boxes = {"boxes": np.array([[[3, 4, 5, 5]]], "float32"), "labels": np.array([[7]])}
    window = {"size": (8, 8), "window": (np.int32(3), np.int32(1))}
    out = layer.transform_bounding_boxes(_copy(boxes), window)
    assert np.asarray(out["boxes"]).tolist() == [[[2, 1, 4, 2]]]
    assert np.asarray(out["labels"]).tolist() == [[7]]
    theirs = keras.layers.RandomCrop(2, 4, bounding_box_format="xyxy")
    keras_out = np.asarray(theirs.transform_bounding_boxes(_copy(boxes), (3, 1))["boxes"])
    assert keras_out.tolist() in ([[[0, 3, 2, 4]]], [[[2, 1, 4, 2]]])  # 3.15, or fixed

    inside = {"boxes": XYXY[:, :2] / 2 + 2, "labels": LABELS[:, :2]}
    ours = kl.RandomCrop(5, 5, bounding_box_format="xyxy")
    theirs = keras.layers.RandomCrop(5, 5, bounding_box_format="xyxy")
    window = {"size": (9, 9), "window": (np.int32(2), np.int32(2))}
    _close(ours.transform_bounding_boxes(_copy(inside), window),
           theirs.transform_bounding_boxes(_copy(inside), (2, 2)))


def test_random_crop_in_fit():
    _fits_without_recompiles(kl.RandomCrop(5, 6))


AFFINE = [
    ("RandomShear", dict(x_factor=0.3, y_factor=0.2, seed=3)),
    ("RandomShear", dict(x_factor=(0.1, 0.5), y_factor=(0.0, 0.4), seed=5,
                         fill_mode="constant", fill_value=7.0, interpolation="nearest")),
    ("RandomShear", dict(x_factor=0.6, seed=1, fill_mode="wrap",
                         data_format="channels_first")),
    ("RandomZoom", dict(height_factor=0.3, seed=3)),
    ("RandomZoom", dict(height_factor=(-0.5, 0.1), width_factor=(0.4, -0.2), seed=5,
                        fill_mode="constant", fill_value=7.0, interpolation="nearest")),
    ("RandomZoom", dict(height_factor=0.4, width_factor=0.6, seed=1, fill_mode="nearest",
                        data_format="channels_first")),
    ("RandomRotation", dict(factor=0.2, seed=3)),
    ("RandomRotation", dict(factor=(-0.5, 0.1), seed=5, fill_mode="constant", fill_value=7.0,
                            interpolation="nearest")),
    ("RandomRotation", dict(factor=0.4, seed=1, fill_mode="nearest",
                            data_format="channels_first")),
    ("RandomTranslation", dict(height_factor=0.3, width_factor=0.2, seed=3)),
    ("RandomTranslation", dict(height_factor=(-0.5, 0.1), width_factor=(0.4, 0.2), seed=5,
                               fill_mode="constant", fill_value=7.0,
                               interpolation="nearest")),
    ("RandomTranslation", dict(height_factor=0.4, width_factor=0.4, seed=1, fill_mode="wrap",
                               data_format="channels_first")),
]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name,kwargs", AFFINE, ids=[f"{n}-{i}" for i, (n, _) in
                                                    enumerate(AFFINE)])
def test_affine_layers_as_keras(keras, name, kwargs, fmt):
    ours = _as_keras(keras, name, fmt, **kwargs)
    data = _data(keras, fmt)
    out = ours(data, training=False)  # inference: everything as it is
    _close(out["images"], IMAGES)
    _close(out["bounding_boxes"], data["bounding_boxes"])


@pytest.mark.parametrize("name", sorted({name for name, _ in AFFINE}))
def test_affine_layers_in_fit(name):
    _fits_without_recompiles(getattr(kl, name)(**next(k for n, k in AFFINE if n == name)))


@pytest.mark.parametrize("make,match", [
    (lambda: kl.RandomZoom(-1.0),
     r"RandomZoom: the `height_factor` argument should be a number \(or a list of two "
     r"numbers\) in the range \(-1.0, 1.0\]. Received: height_factor=-1.0"),
    (lambda: kl.RandomZoom(0.1, "a"), r"RandomZoom: the `width_factor` .*width_factor=a"),
    (lambda: kl.RandomRotation(-1.5),
     r"RandomRotation: the `factor` argument should be a number \(or a list of two numbers\) "
     r"in the range \[-1, 1\]. Received: factor=-1.5"),
    (lambda: kl.RandomTranslation(1.5, 0.1),
     r"RandomTranslation: the `height_factor` argument should be a number \(or a list of two "
     r"numbers\) in the range \[-1.0, 1.0\]. Received: height_factor=1.5"),
    (lambda: kl.RandomTranslation(0.1, (0.1, 0.2, 0.3)),
     r"RandomTranslation: the `width_factor` .*Received: width_factor=\(0.1, 0.2, 0.3\)"),
])
def test_factor_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize("layer", [kl.RandomCrop(2, 2), kl.RandomTranslation(0.1, 0.1)],
                         ids=lambda l: type(l).__name__)
def test_boxes_need_a_format(layer):
    with pytest.raises(ValueError, match=r"you didn't specify a bounding box format"):
        layer({"images": IMAGES, "bounding_boxes": {"boxes": XYXY, "labels": LABELS}})
