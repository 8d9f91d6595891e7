"""MixUp and CutMix against Keras 3: given the same draws (kerax's draws fed to Keras'
transform in place of its own) the outputs are equal; the draws' distributions agree;
inference, configs, the compiled fit step and errors."""

import jax
import numpy as np
import pytest

import kerax
import kerax.layers as kl
from kerax.errors import LayerShapeError
from kerax.trainer import compile_cache

KEY = jax.random.PRNGKey(7)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 255, (4, 5, 6, 3)).astype("float32")
    labels = np.eye(4, dtype="float32")[[0, 1, 2, 3]]
    return images, labels


def _keras_with_draws(klayer, transformation):
    """Keras' layer whose random draws are kerax's (its transform code runs as is)."""
    klayer.get_random_transformation = lambda *a, **k: transformation
    return klayer


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("name,kwargs", [("MixUp", dict(alpha=0.3)),
                                         ("CutMix", dict(factor=(0.3, 0.9)))])
def test_equal_to_keras_given_the_same_draws(keras, data, name, kwargs, data_format):
    images, labels = data
    if data_format == "channels_first":
        images = np.moveaxis(images, -1, 1)
    layer = getattr(kl, name)(data_format=data_format, **kwargs)
    t = layer._draw(images, KEY)
    got, _ = layer.apply({}, {"images": images, "labels": labels}, training=True, rng=KEY)
    klayer = _keras_with_draws(getattr(keras.layers, name)(data_format=data_format, **kwargs), t)
    want = klayer({"images": images, "labels": labels}, training=True)
    for k in ("images", "labels"):
        np.testing.assert_allclose(got[k], np.asarray(want[k]), rtol=1e-6, atol=1e-4)
    alone, _ = layer.apply({}, images, training=True, rng=KEY)
    np.testing.assert_allclose(alone, np.asarray(klayer(images, training=True)), atol=1e-4)
    assert not np.allclose(got["images"], images), "training mixes"


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_cutmix_box_mask_and_weight_as_keras(keras, data, data_format):
    images = data[0] if data_format == "channels_last" else np.moveaxis(data[0], -1, 1)
    layer = kl.CutMix(data_format=data_format)
    t = layer._draw(images, KEY)
    masks, weight = keras.layers.CutMix(data_format=data_format)._generate_batch_mask(
        images.shape, t["box"])
    np.testing.assert_array_equal(np.broadcast_to(t["batch_masks"], images.shape), masks)
    np.testing.assert_allclose(t["mix_weight"], np.asarray(weight), rtol=1e-6)
    x0, x1, y0, y1 = (np.asarray(c) for c in t["box"])
    h, w = (5, 6)
    assert (x0 >= 0).all() and (x1 <= w + 1e-5).all() and (y0 >= 0).all() and (y1 <= h + 1e-5).all()
    np.testing.assert_allclose((x1 - x0) / w, (y1 - y0) / h, rtol=1e-5)  # both sides sqrt(1 - w)


def test_mixup_draws_have_keras_distribution(keras):
    """Kerax's stream differs from Keras' SeedGenerator; the distributions are the same."""
    images = np.zeros((2000, 1, 1, 1), "float32")
    theirs = keras.layers.MixUp(alpha=0.2, seed=1).get_random_transformation(images)
    ours = kl.MixUp(alpha=0.2)._draw(images, KEY)
    for t in (theirs, ours):
        w = np.asarray(t["mix_weight"])
        assert abs(w.mean() - 0.5) < 0.04 and abs(w.var() - 0.04 / (0.16 * 1.4)) < 0.02
        assert sorted(np.asarray(t["permutation_order"]).tolist()) == list(range(2000))


def test_cutmix_draws_have_keras_distribution(keras):
    images = np.zeros((2000, 8, 8, 1), "float32")
    theirs = keras.layers.CutMix(factor=(0.5, 0.5), seed=1).get_random_transformation(images)
    ours = kl.CutMix(factor=(0.5, 0.5))._draw(images, KEY)
    area = [1 - np.asarray(t["mix_weight"]).ravel() for t in (theirs, ours)]
    assert abs(area[0].mean() - area[1].mean()) < 0.03
    assert abs(np.median(area[0]) - np.median(area[1])) < 0.05


@pytest.mark.parametrize("name", ["MixUp", "CutMix"])
def test_inference_and_single_images_as_keras(keras, data, name):
    images, labels = data
    x = images.astype("uint8")
    layer, klayer = getattr(kl, name)(), getattr(keras.layers, name)()
    got, _ = layer.apply({}, {"images": x, "labels": labels}, training=False)
    want = klayer({"images": x, "labels": labels}, training=False)
    assert got["images"].dtype == want["images"].dtype
    np.testing.assert_array_equal(got["images"], np.asarray(want["images"]))
    np.testing.assert_array_equal(got["labels"], labels)
    single, _ = layer.apply({}, images[0], training=True, rng=KEY)
    np.testing.assert_allclose(single, np.asarray(klayer(images[0], training=True)), atol=1e-4)
    assert layer(x).dtype == klayer(x).dtype  # eager calls train, as in Keras


def test_mixup_integer_labels_become_float_as_keras(keras, data):
    images, labels = data
    layer = kl.MixUp()
    t = layer._draw(images, KEY)
    got, _ = layer.apply({}, {"images": images, "labels": labels.astype("int32")},
                         training=True, rng=KEY)
    want = _keras_with_draws(keras.layers.MixUp(), t)(
        {"images": images, "labels": labels.astype("int32")})
    assert got["labels"].dtype == want["labels"].dtype
    np.testing.assert_allclose(got["labels"], np.asarray(want["labels"]), atol=1e-6)


def test_cutmix_segmentation_masks_as_keras(keras, data):
    images, _ = data
    masks = (images[..., :1] > 128).astype("float32")
    layer = kl.CutMix()
    t = layer._draw(images, KEY)
    got, _ = layer.apply({}, {"images": images, "segmentation_masks": masks}, training=True,
                         rng=KEY)
    want = keras.layers.CutMix().transform_images(masks, t)
    np.testing.assert_array_equal(got["segmentation_masks"], np.asarray(want))


@pytest.mark.parametrize("name,kwargs", [("MixUp", dict(alpha=0.5, seed=4)),
                                         ("CutMix", dict(factor=0.7, seed=4))])
def test_config_equals_keras_and_round_trips(keras, name, kwargs):
    layer = getattr(kl, name)(name="mix", **kwargs)
    config = layer.get_config()
    assert config == getattr(keras.layers, name)(name="mix", **kwargs).get_config()
    assert getattr(kl, name).from_config(config).get_config() == config
    assert kl.deserialize(kl.serialize(layer)).get_config() == config


@pytest.mark.parametrize("layer", [kl.MixUp(), kl.CutMix()], ids=["MixUp", "CutMix"])
def test_inside_the_compiled_fit_step_without_recompiles(layer):
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (32, 4, 4, 1)).astype("float32")
    y = rng.integers(0, 2, 32)
    model = kerax.Sequential([kerax.Input((4, 4, 1)), layer, kl.Flatten(), kl.Dense(2)])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    with compile_cache.track() as stats:
        history = model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert stats.compiles == 0
    assert np.isfinite(history.history["loss"]).all()
    np.testing.assert_array_equal(model.predict(x[:2], verbose=0),
                                  model.layers[-1](model.layers[-2](x[:2])))


def test_errors():
    x = np.zeros((2, 3, 3, 1), "float32")
    with pytest.raises(ValueError, match=r"MixUp '.*' takes images, or a dict with an 'images' "
                                         r"key.*Received keys: \['bounding_boxes', 'images'\]"):
        kl.MixUp().apply({}, {"images": x, "bounding_boxes": {}}, training=True, rng=KEY)
    with pytest.raises(ValueError, match=r"Received keys: \['labels'\]"):
        kl.CutMix().apply({}, {"labels": x}, training=True, rng=KEY)
    with pytest.raises(LayerShapeError, match=r"CutMix 'cut_mix.*' expects images .*but "
                                              r"received input of shape \(2, 3\)"):
        kl.CutMix().apply({}, {"images": np.zeros((2, 3))}, training=True, rng=KEY)
    with pytest.raises(ValueError, match=r"MixUp 'mix_up.*' needs a random key in training "
                                         r"mode: `apply` received no `rng` and the layer's "
                                         r"state has no seed state 'generator'"):
        kl.MixUp().apply({}, x, training=True)
    with pytest.raises(ValueError, match=r"CutMix: `factor` must be a number .*\[0, 1\]. "
                                         r"Received: factor=1.5"):
        kl.CutMix(factor=1.5)


def test_cutmix_mask_on_integral_box_edges_as_keras(keras):
    images = np.zeros((2, 5, 6, 1), "float32")
    box = tuple(np.array(v, "float32") for v in ([1.0, 0.0], [3.0, 6.0], [0.0, 2.0], [2.0, 5.0]))
    masks, weight = kl.CutMix()._batch_masks(images, box)
    kmasks, kweight = keras.layers.CutMix()._generate_batch_mask(images.shape, box)
    np.testing.assert_array_equal(np.broadcast_to(masks, images.shape), kmasks)
    np.testing.assert_allclose(weight, np.asarray(kweight))


def test_keras_files_both_ways(keras, tmp_path):
    x = np.random.default_rng(1).uniform(0, 1, (2, 5, 6, 3)).astype("float32")
    theirs = keras.Sequential([keras.Input((5, 6, 3)), keras.layers.MixUp(alpha=0.3),
                               keras.layers.CutMix(factor=0.5), keras.layers.Flatten(),
                               keras.layers.Dense(2)])
    theirs.save(tmp_path / "k.keras")
    ours = kerax.saving.load_model(tmp_path / "k.keras")
    assert [type(layer).__name__ for layer in ours.layers[:2]] == ["MixUp", "CutMix"]
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)
    ours.save(tmp_path / "x.keras")
    back = keras.saving.load_model(tmp_path / "x.keras")
    assert back.layers[1].get_config() == theirs.layers[1].get_config()


@pytest.mark.parametrize("name,draws", [("MixUp", 2), ("CutMix", 5)])
def test_seed_state_as_keras(keras, name, draws):
    """Keras' `generator` seed state: listed as a non-trainable variable, advanced by Keras'
    number of draws per training call; without `rng` the layer draws from it."""
    x = np.random.default_rng(0).random((4, 6, 6, 3)).astype("float32")
    k_layer = getattr(keras.layers, name)(seed=3)
    k_layer(x, training=True)
    layer = getattr(kl, name)(seed=3)
    variables = layer.init(KEY, x)
    assert variables["state"]["generator"].tolist() == [3, 0]
    out, state = layer.apply(variables, x, training=True)
    assert state["generator"].tolist() == np.asarray(k_layer.generator.state.value).tolist()
    assert state["generator"].tolist() == [3, draws]
    again, _ = layer.apply(variables, x, training=True)
    np.testing.assert_array_equal(out, again)  # the same seed state, the same draw
    nxt, _ = layer.apply({"params": {}, "state": state}, x, training=True)
    assert not np.array_equal(nxt, out)
