"""The geometric image layers on Keras' dict input (images, labels, bounding boxes in
several formats, segmentation masks) against Keras 3: with the same seed, two eager calls
return what Keras returns; configs round trip; in `fit` nothing recompiles."""

import numpy as np
import pytest

import kerax
import kerax.layers as kl
from kerax.trainer import compile_cache

RNG = np.random.default_rng(1)
IMAGES = RNG.uniform(0, 255, (3, 9, 7, 3)).astype("float32")
MASKS = RNG.integers(0, 4, (3, 9, 7, 1)).astype("float32")
XYXY = np.array([[[1, 1, 4, 5], [2, 0, 6, 8], [0, 0, 0, 0]]] * 3, "float32")
LABELS = np.array([[1, 2, -1]] * 3, "int32")
FORMATS = ["xyxy", "rel_xyxy", "center_yxhw"]


def _copy(data):
    return {k: (_copy(v) if isinstance(v, dict) else np.array(v)) for k, v in data.items()}


def _close(got, want, atol=1e-4):
    if isinstance(want, dict):
        assert sorted(got) == sorted(want)
        for k in want:
            _close(got[k], want[k], atol)
        return
    assert np.asarray(got).dtype == np.asarray(want).dtype, (np.asarray(got).dtype,
                                                             np.asarray(want).dtype)
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-5, atol=atol)


def _data(keras, fmt, channels_first=False):
    boxes = np.asarray(keras.utils.bounding_boxes.convert_format(XYXY, "xyxy", fmt,
                                                                 height=9, width=7))
    data = {"images": IMAGES, "labels": np.arange(3.0), "segmentation_masks": MASKS,
            "bounding_boxes": {"boxes": boxes, "labels": LABELS}}
    if channels_first:
        data["images"] = np.moveaxis(IMAGES, -1, 1)
        data["segmentation_masks"] = np.moveaxis(MASKS, -1, 1)
    return data


def _as_keras(keras, name, fmt, calls=2, **kwargs):
    """Two eager calls on the dict (and one on a single image) equal Keras' calls."""
    data = _data(keras, fmt, kwargs.get("data_format") == "channels_first")
    theirs = getattr(keras.layers, name)(bounding_box_format=fmt, name="l", **kwargs)
    ours = getattr(kl, name)(bounding_box_format=fmt, name="l", **kwargs)
    for _ in range(calls):
        _close(ours(data), theirs(_copy(data)))
    single = {"images": data["images"][0], "segmentation_masks": data["segmentation_masks"][0],
              "bounding_boxes": {k: v[0] for k, v in data["bounding_boxes"].items()}}
    _close(ours(single), theirs(_copy(single)))
    _close(ours(data["images"]), theirs(np.array(data["images"])))
    if hasattr(theirs, "generator"):
        assert np.asarray(ours.generator.state).tolist() == np.asarray(
            theirs.generator.state.value).tolist()
    assert ours.get_config() == theirs.get_config()
    assert getattr(kl, name).from_config(ours.get_config()).get_config() == ours.get_config()
    return ours


def _fits_without_recompiles(layer):
    x = RNG.uniform(0, 1, (16, 8, 8, 1)).astype("float32")
    y = RNG.integers(0, 2, 16)
    model = kerax.Sequential([kerax.Input((8, 8, 1)), layer, kl.Flatten(), kl.Dense(2)])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    with compile_cache.track() as stats:
        history = model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert stats.compiles == 0
    assert np.isfinite(history.history["loss"]).all()


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
