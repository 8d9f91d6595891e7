"""`kerax.visualization` against Keras 3's: the `draw_*` arrays on the same inputs (Keras
draws boxes with OpenCV, compared where `cv2` is installed; kerax needs none), and the
galleries' saved PNGs with matplotlib's Agg backend (skipped without matplotlib)."""

import io
import sys

import numpy as np
import pytest

import kerax
from kerax import visualization

FORMATS = ["xyxy", "yxyx", "xywh", "center_xywh", "center_yxhw", "rel_xyxy", "rel_yxyx",
           "rel_xywh", "rel_center_xywh"]
rng = np.random.default_rng(0)
images = rng.integers(0, 255, (2, 20, 24, 3)).astype("uint8")
labels = np.array([[0, 1, -1], [2, 0, 1]])


def _boxes(fmt, seed=0):
    scale = 1.0 if fmt.startswith("rel") else 22.0
    return np.random.default_rng(seed).uniform(-0.1, 1.1, (2, 3, 4)).astype("float32") * scale


@pytest.mark.parametrize("fmt", FORMATS)
def test_draw_bounding_boxes_pixels_as_keras(keras, fmt):
    pytest.importorskip("cv2")
    for thickness in (1, 2, 3, 5):
        for data in (images, images / 255.0, images.astype("float32")):
            boxes = {"boxes": _boxes(fmt, thickness), "labels": labels}
            ours = visualization.draw_bounding_boxes(data, dict(boxes), fmt,
                                                     line_thickness=thickness, color=(9, 200, 40))
            theirs = keras.visualization.draw_bounding_boxes(
                data, dict(boxes), fmt, line_thickness=thickness, color=(9, 200, 40))
            assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
            np.testing.assert_array_equal(ours, theirs)


def test_rectangles_are_opencvs_pixels():
    cv2 = pytest.importorskip("cv2")
    from kerax.visualization.draw_bounding_boxes import _draw_rectangle

    r = np.random.default_rng(1)
    for _ in range(300):
        thickness = int(r.integers(-1, 9)) or 1
        x1, x2, y1, y2 = (int(v) for v in r.integers(-6, 30, 4))
        ours, theirs = np.zeros((20, 24, 3), "uint8"), np.zeros((20, 24, 3), "uint8")
        _draw_rectangle(ours, x1, y1, x2, y2, (255, 7, 1), thickness)
        cv2.rectangle(theirs, (x1, y1), (x2, y2), (255, 7, 1), thickness)
        np.testing.assert_array_equal(ours, theirs)


def test_labels_differ_from_keras_only_in_the_text(keras):
    # Keras writes labels with OpenCV's Hershey font, kerax with Pillow's default font:
    # the boxes are the same pixels, the text pixels are near each other but not equal.
    pytest.importorskip("cv2")
    big = np.zeros((1, 64, 64, 3), "uint8")
    boxes = {"boxes": np.array([[[20, 40, 50, 60]]], "float32"), "labels": np.array([[0]]),
             "confidences": np.array([[0.25]])}
    kwargs = dict(bounding_box_format="xyxy", color=(255, 0, 0))
    ours = visualization.draw_bounding_boxes(big, dict(boxes), class_mapping={0: "a"}, **kwargs)
    theirs = keras.visualization.draw_bounding_boxes(big, dict(boxes), class_mapping={0: "a"},
                                                     **kwargs)
    plain = visualization.draw_bounding_boxes(big, dict(boxes), **kwargs)
    ours_text, theirs_text = (ours != plain).any(-1), (theirs != plain).any(-1)
    assert ours_text.sum() > 20 and theirs_text.sum() > 20
    for axis in (0, 1):  # the text spans about the same rows and columns as Keras'
        ours_at = np.nonzero(ours_text[0].any(1 - axis))[0]
        theirs_at = np.nonzero(theirs_text[0].any(1 - axis))[0]
        assert abs(ours_at.min() - theirs_at.min()) <= 3
        assert abs(ours_at.max() - theirs_at.max()) <= 3
    outside = ~(ours_text | theirs_text)
    np.testing.assert_array_equal(ours[0][outside[0]], theirs[0][outside[0]])


def test_draw_bounding_boxes_errors():
    with pytest.raises(ValueError, match=r"`images` must be batched 4D tensor.*\(20, 24, 3\)"):
        visualization.draw_bounding_boxes(images[0], {"boxes": [], "labels": []}, "xyxy")
    with pytest.raises(TypeError, match="`bounding_boxes` should be a dict"):
        visualization.draw_bounding_boxes(images, [1], "xyxy")
    with pytest.raises(ValueError, match="containing 'boxes' and 'labels' keys"):
        visualization.draw_bounding_boxes(images, {"boxes": _boxes("xyxy")}, "xyxy")
    with pytest.raises(ValueError, match="Supported formats.*Received: bounding_box_format='xy'"):
        visualization.draw_bounding_boxes(images, {"boxes": _boxes("xyxy"), "labels": labels},
                                          "xy")


MASK_ARGS = [{}, {"num_classes": 5}, {"blend": False}, {"alpha": 0.3, "ignore_index": 0},
             {"num_classes": 4, "color_mapping": {0: (1, 2, 3), 1: (200, 0, 0), 2: (0, 9, 9),
                                                  3: (4, 4, 4)}}]


@pytest.mark.parametrize("kwargs", MASK_ARGS)
def test_draw_segmentation_masks_as_keras(keras, kwargs):
    masks = rng.integers(-1, 4, (2, 20, 24, 1)).astype("int32")
    ours = visualization.draw_segmentation_masks(images, masks, **kwargs)
    theirs = np.asarray(keras.visualization.draw_segmentation_masks(images, masks, **kwargs))
    assert ours.dtype == theirs.dtype
    np.testing.assert_array_equal(ours, theirs)
    chw = visualization.draw_segmentation_masks(
        images.transpose(0, 3, 1, 2), masks.transpose(0, 3, 1, 2),
        data_format="channels_first", **kwargs)
    np.testing.assert_array_equal(chw, theirs)


def test_draw_segmentation_masks_errors():
    with pytest.raises(TypeError, match="`segmentation_masks` must be in integer dtype. "
                                        "Received: segmentation_masks.dtype=float32"):
        visualization.draw_segmentation_masks(images, np.zeros((2, 20, 24, 1), "float32"))
    with pytest.raises(ValueError, match="`images` must be batched 4D tensor"):
        visualization.draw_segmentation_masks(images[0], np.zeros((20, 24, 1), "int32"))


def _png(path):
    from PIL import Image

    return np.asarray(Image.open(path))


def _plots():
    masks = rng.integers(0, 3, (2, 20, 24, 1)).astype("int32")
    true = {"boxes": _boxes("xyxy"), "labels": labels}
    pred = {"boxes": _boxes("xyxy", 1), "labels": labels}
    return {
        "gallery": lambda lib, path: lib.visualization.plot_image_gallery(
            images / 255.0, y_true=np.array([0, 1]), y_pred=np.array([1, 1]),
            label_map={0: "cat", 1: "dog"}, value_range=(0, 1), path=path),
        "gallery_rows": lambda lib, path: lib.visualization.plot_image_gallery(
            images, rows=1, cols=2, scale=1, dpi=40, path=path),
        "boxes": lambda lib, path: lib.visualization.plot_bounding_box_gallery(
            images, "xyxy", y_true=dict(true), y_pred=dict(pred), legend=True, path=path),
        "masks": lambda lib, path: lib.visualization.plot_segmentation_mask_gallery(
            images, 3, y_true=masks, y_pred=masks[::-1], path=path),
    }


@pytest.mark.parametrize("name", sorted(_plots()))
def test_galleries_draw_the_same_png_as_keras(keras, tmp_path, name):
    pytest.importorskip("matplotlib")
    if name == "boxes":
        pytest.importorskip("cv2")
    import matplotlib

    matplotlib.use("Agg")
    plot = _plots()[name]
    assert plot(kerax, tmp_path / "ours.png") is None  # as Keras: saved, nothing returned
    plot(keras, tmp_path / "theirs.png")
    np.testing.assert_array_equal(_png(tmp_path / "ours.png"), _png(tmp_path / "theirs.png"))


def test_gallery_errors_and_install_hint(monkeypatch):
    pytest.importorskip("matplotlib")
    with pytest.raises(ValueError, match="either `path` to be set, or `show`"):
        visualization.plot_image_gallery(images, path="x.png", show=True)
    with pytest.raises(ValueError, match="a `label_map` must also be provided"):
        visualization.plot_image_gallery(images, y_true=np.array([0, 1]), path="x.png")
    with pytest.raises(ValueError, match="Only pass `legend` OR `legend_handles`"):
        visualization.plot_bounding_box_gallery(images, "xyxy", legend=True,
                                                legend_handles=[1])
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match="pip install matplotlib"):
        visualization.plot_image_gallery(images, path=io.BytesIO())
