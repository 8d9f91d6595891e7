"""RandomPerspective, RandomElasticTransform, ContrastLimitedAdaptiveHistogramEqualization
and MaxNumBoundingBoxes against Keras 3: with the same seed an eager call draws and
returns exactly what Keras does (boxes and seed state included); configs, the compiled fit
step, jit and errors."""

import jax
import numpy as np
import pytest

import kerax
import kerax.layers as kl
from kerax.errors import LayerShapeError
from kerax.trainer import compile_cache

RNG = np.random.default_rng(0)
IMAGES = RNG.uniform(0, 255, (3, 9, 7, 3)).astype("float32")
BOXES = {"boxes": np.array([[[1, 1, 4, 5], [2, 0, 6, 8]]] * 3, "float32"),
         "labels": np.array([[1, 2]] * 3, "int32")}


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


SEEDED = [
    ("RandomPerspective", dict(seed=3)),
    ("RandomPerspective", dict(seed=5, factor=0.5, scale=0.4, interpolation="nearest",
                               fill_value=2.0)),
    ("RandomPerspective", dict(seed=2, data_format="channels_first")),
    ("RandomElasticTransform", dict(seed=3)),
    ("RandomElasticTransform", dict(seed=5, factor=0.7, scale=(0.2, 0.6),
                                    interpolation="nearest", fill_mode="constant",
                                    fill_value=9.0)),
    ("RandomElasticTransform", dict(seed=2, data_format="channels_first", fill_mode="mirror")),
    ("ContrastLimitedAdaptiveHistogramEqualization", dict()),
    ("ContrastLimitedAdaptiveHistogramEqualization", dict(tile_grid_size=(3, 2),
                                                          clip_limit=2.0)),
    ("ContrastLimitedAdaptiveHistogramEqualization", dict(data_format="channels_first",
                                                          clip_limit=0)),
]


def _images(kwargs):
    if kwargs.get("data_format") == "channels_first":
        return np.moveaxis(IMAGES, -1, 1)
    return IMAGES


@pytest.mark.parametrize("name,kwargs", SEEDED, ids=[f"{n}-{i}" for i, (n, _) in
                                                     enumerate(SEEDED)])
def test_seeded_eager_calls_equal_keras(keras, name, kwargs):
    x = _images(kwargs)
    theirs = getattr(keras.layers, name)(name="aug", **kwargs)
    ours = getattr(kl, name)(name="aug", **kwargs)
    for _ in range(2 if hasattr(theirs, "generator") else 1):  # then the advanced state
        _close(ours(x), theirs(x))
    if name != "RandomElasticTransform":  # Keras 3.15's squeezes a one-image field wrongly
        _close(ours(x[0]), theirs(x[0]))
    if hasattr(theirs, "generator"):
        assert np.asarray(ours.generator.state).tolist() == np.asarray(
            theirs.generator.state.value).tolist()
    assert ours.get_config() == theirs.get_config()
    assert getattr(kl, name).from_config(ours.get_config()).get_config() == ours.get_config()


def test_perspective_moves_boxes_as_keras(keras):
    theirs = keras.layers.RandomPerspective(scale=0.6, seed=5, bounding_box_format="xyxy")
    ours = kl.RandomPerspective(scale=0.6, seed=5, bounding_box_format="xyxy")
    want = theirs({"images": IMAGES, "bounding_boxes": _copy(BOXES)})
    got = ours({"images": IMAGES, "bounding_boxes": BOXES})
    _close(got, want)
    assert not np.allclose(got["bounding_boxes"]["boxes"], BOXES["boxes"])


def test_perspective_boxes_in_a_relative_format_stay_in_it(keras):
    """Keras 3.15 returns such boxes in absolute `xyxy` (its other geometric layers convert
    back to the layer's format); kerax returns the same boxes in the layer's format."""
    boxes = {"boxes": BOXES["boxes"] / 10.0, "labels": BOXES["labels"]}
    theirs = keras.layers.RandomPerspective(seed=1, bounding_box_format="rel_xyxy")
    ours = kl.RandomPerspective(seed=1, bounding_box_format="rel_xyxy")
    got = ours({"images": IMAGES, "bounding_boxes": boxes})
    want = theirs({"images": IMAGES, "bounding_boxes": _copy(boxes)})
    want["bounding_boxes"]["boxes"] = keras.utils.bounding_boxes.convert_format(
        want["bounding_boxes"]["boxes"], "xyxy", "rel_xyxy", height=9, width=7)
    _close(got, want)


@pytest.mark.parametrize("max_number", [1, 2, 4])
def test_max_num_bounding_boxes_as_keras(keras, max_number):
    theirs = keras.layers.MaxNumBoundingBoxes(max_number, fill_value=-2,
                                              bounding_box_format="xyxy")
    ours = kl.MaxNumBoundingBoxes(max_number, fill_value=-2, bounding_box_format="xyxy")
    _close(ours({"images": IMAGES, "bounding_boxes": BOXES}),
           theirs({"images": IMAGES, "bounding_boxes": _copy(BOXES)}))
    single = {"images": IMAGES[0], "bounding_boxes": {k: v[0] for k, v in BOXES.items()}}
    _close(ours(single), theirs(_copy(single)))
    assert ours.get_config() == theirs.get_config()


def test_clahe_keeps_integer_dtype_as_keras(keras):
    x = IMAGES.astype("uint8")
    layer = kl.ContrastLimitedAdaptiveHistogramEqualization(tile_grid_size=(2, 2))
    _close(layer(x), keras.layers.ContrastLimitedAdaptiveHistogramEqualization(
        tile_grid_size=(2, 2))(x))
    _close(layer(x, training=False), layer(x))  # applied at inference too


@pytest.mark.parametrize("name", ["RandomPerspective", "RandomElasticTransform"])
def test_inference_is_the_identity_and_apply_jits(name):
    layer = getattr(kl, name)(seed=1)
    variables = layer.init(jax.random.PRNGKey(0), IMAGES)
    out, _ = layer.apply(variables, IMAGES, training=False)
    np.testing.assert_array_equal(out, IMAGES)
    step = jax.jit(lambda v, x: layer.apply(v, x, training=True))
    eager, state = layer.apply(variables, IMAGES, training=True)
    jitted, jstate = step(variables, IMAGES)
    np.testing.assert_allclose(jitted, eager, rtol=1e-5, atol=1e-3)
    assert state["generator"].tolist() == jstate["generator"].tolist()
    keyed = [layer.apply(variables, IMAGES, training=True, rng=jax.random.PRNGKey(k))[0]
             for k in (1, 1, 2)]
    np.testing.assert_array_equal(keyed[0], keyed[1])
    assert not np.allclose(keyed[0], keyed[2])


@pytest.mark.parametrize("layer", [kl.RandomPerspective(scale=0.3),
                                   kl.RandomElasticTransform(scale=0.3)],
                         ids=["RandomPerspective", "RandomElasticTransform"])
def test_inside_the_compiled_fit_step_without_recompiles(layer):
    _fits_without_recompiles(layer)


def _fits_without_recompiles(layer):
    """`layer` in front of a small model: `fit` twice, the second compiling nothing."""
    x = RNG.uniform(0, 1, (16, 8, 8, 1)).astype("float32")
    y = RNG.integers(0, 2, 16)
    model = kerax.Sequential([kerax.Input((8, 8, 1)), layer, kl.Flatten(), kl.Dense(2)])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    with compile_cache.track() as stats:
        history = model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert stats.compiles == 0
    assert np.isfinite(history.history["loss"]).all()


def test_errors():
    with pytest.raises(LayerShapeError, match=r"RandomPerspective 'rp' expects images of "
                                              r"rank 3 .* received input of shape \(2, 3\)"):
        kl.RandomPerspective(name="rp")(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"you didn't specify a bounding box format.*"
                                         r"RandomPerspective layer"):
        kl.RandomPerspective()({"images": IMAGES, "bounding_boxes": BOXES})
    with pytest.raises(ValueError, match=r"RandomElasticTransform 'e' takes images, or a "
                                         r"dict .*Received keys: \['image'\]"):
        kl.RandomElasticTransform(name="e")({"image": IMAGES})
    with pytest.raises(ValueError, match=r"RandomPerspective: the `factor` argument should "
                                         r"be a number .*\[0, 1\]. Received: factor=1.5"):
        kl.RandomPerspective(factor=1.5)
    with pytest.raises(ValueError, match=r"`scale` argument should be a number in the range "
                                         r"\[0,1\]. Received: scale=2"):
        kl.RandomPerspective(scale=2)
    with pytest.raises(ValueError, match=r"RandomElasticTransform: unknown `fill_mode` "
                                         r"'edge'"):
        kl.RandomElasticTransform(fill_mode="edge")
    with pytest.raises(ValueError, match=r"`tile_grid_size` must be two positive integers"):
        kl.ContrastLimitedAdaptiveHistogramEqualization(tile_grid_size=8)
    with pytest.raises(ValueError, match=r"MaxNumBoundingBoxes 'm' expects boxes of shape "
                                         r"\(batch, num_boxes, 4\).*Received: "
                                         r"boxes.shape=\(3, 4\)"):
        kl.MaxNumBoundingBoxes(2, name="m", bounding_box_format="xyxy")(
            {"images": IMAGES, "bounding_boxes": {"boxes": np.zeros((3, 4)),
                                                  "labels": np.zeros(3)}})
    with pytest.raises(ValueError, match=r"needs a random key in training mode"):
        kl.RandomPerspective().apply({}, IMAGES, training=True)


def test_keras_files_load_in_kerax(keras, tmp_path):
    theirs = keras.Sequential([
        keras.Input((9, 7, 3)), keras.layers.RandomPerspective(scale=0.3, seed=1),
        keras.layers.RandomElasticTransform(seed=2),
        keras.layers.ContrastLimitedAdaptiveHistogramEqualization(tile_grid_size=(2, 2)),
        keras.layers.Flatten(), keras.layers.Dense(2)])
    theirs.save(tmp_path / "k.keras")
    ours = kerax.saving.load_model(tmp_path / "k.keras")
    np.testing.assert_allclose(ours.predict(IMAGES, verbose=0),
                               theirs.predict(IMAGES, verbose=0), rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("fmt", ["xyxy", "rel_xyxy", "center_yxhw"])
@pytest.mark.parametrize("mode", ["horizontal", "vertical", "horizontal_and_vertical"])
def test_random_flip_images_boxes_and_masks_as_keras(keras, mode, fmt):
    boxes = {"boxes": np.asarray(keras.utils.bounding_boxes.convert_format(
        BOXES["boxes"], "xyxy", fmt, height=9, width=7)), "labels": BOXES["labels"]}
    data = {"images": IMAGES, "bounding_boxes": boxes, "segmentation_masks": IMAGES[..., :1]}
    theirs = keras.layers.RandomFlip(mode, seed=3, bounding_box_format=fmt, name="f")
    ours = kl.RandomFlip(mode, seed=3, bounding_box_format=fmt, name="f")
    for _ in range(2):
        _close(ours(data), theirs(_copy(data)))
    assert ours.get_config() == theirs.get_config()
    assert np.asarray(ours.generator.state).tolist() == [3, 2]


def test_random_flip_single_image_with_boxes_as_keras(keras):
    data = {"images": IMAGES[0], "bounding_boxes": {k: v[0] for k, v in BOXES.items()}}
    theirs = keras.layers.RandomFlip(seed=2, bounding_box_format="xyxy")
    ours = kl.RandomFlip(seed=2, bounding_box_format="xyxy")
    for _ in range(3):
        _close(ours(data), theirs(_copy(data)))
