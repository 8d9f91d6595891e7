"""Image augmentation layers beyond the generic conformance checks: training mode, Keras'
inference rules, determinism per key, errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kerax.layers as L
from kerax.errors import LayerShapeError

RNG = np.random.default_rng(0)
IMG = RNG.uniform(0, 255, (2, 6, 5, 3)).astype("float32")
KEYS = [jax.random.PRNGKey(i) for i in range(12)]


def _train(layer, x, key):
    return np.asarray(layer.apply({}, x, training=True, rng=key)[0])


# ------------------------------------------------------------------------ RandomCrop --
@pytest.mark.parametrize("size", [(4, 3), (8, 4), (2, 5), (6, 5), (1, 1)])
def test_random_crop_inference_is_keras_center_crop_and_resize(keras, size):
    # Keras' documented inference rule: the largest centered window with the target's
    # aspect ratio, resized (what keras.layers.Resizing(crop_to_aspect_ratio=True) does).
    want = keras.layers.Resizing(*size, crop_to_aspect_ratio=True)(IMG)
    got, _ = L.RandomCrop(*size).apply({}, IMG)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4)


def test_random_crop_channels_first_and_single_image(keras):
    chw = np.moveaxis(IMG, -1, 1)
    got, _ = L.RandomCrop(3, 4, data_format="channels_first").apply({}, chw)
    want = keras.layers.Resizing(3, 4, crop_to_aspect_ratio=True,
                                 data_format="channels_first")(chw)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4)
    single, _ = L.RandomCrop(4, 3).apply({}, IMG[0], training=True, rng=KEYS[0])
    assert single.shape == (4, 3, 3)


def _windows(x, height, width):
    h, w = x.shape[1:3]
    return {(t, l): x[:, t:t + height, l:l + width]
            for t in range(h - height + 1) for l in range(w - width + 1)}


def test_random_crop_training_draws_one_window_per_batch(keras):
    layer = L.RandomCrop(4, 3)
    windows = _windows(IMG, 4, 3)
    seen = set()
    run = jax.jit(lambda x, k: layer.apply({}, x, training=True, rng=k)[0])
    for key in KEYS:
        y = np.asarray(run(IMG, key))
        assert y.shape == (2, 4, 3, 3) and y.dtype == np.float32
        hits = [pos for pos, win in windows.items() if np.array_equal(y, win)]
        assert len(hits) == 1  # the same window for every image of the batch, as Keras
        seen.add(hits[0])
    assert len(seen) > 3  # 9 possible windows: the location really depends on the key
    np.testing.assert_array_equal(run(IMG, KEYS[5]), run(IMG, KEYS[5]))
    kout = np.asarray(keras.layers.RandomCrop(4, 3, seed=1)(IMG, training=True))
    assert any(np.array_equal(kout, win) for win in windows.values())


def test_random_crop_training_edge_sizes(keras):
    # Equal size: the identity. One equal side: the centered window, as Keras 3 (which
    # draws only when both sides are larger than the target).
    np.testing.assert_array_equal(_train(L.RandomCrop(6, 5), IMG, KEYS[0]), IMG)
    for k in KEYS:
        np.testing.assert_array_equal(_train(L.RandomCrop(4, 5), IMG, k), IMG[:, 1:5])
    np.testing.assert_array_equal(keras.layers.RandomCrop(4, 5, seed=1)(IMG), IMG[:, 1:5])
    # Smaller than the target: the inference rule (center crop + resize), in training too.
    small = L.RandomCrop(8, 4)
    np.testing.assert_array_equal(_train(small, IMG, KEYS[0]), small.apply({}, IMG)[0])


def test_random_crop_int_input_gives_float():
    x = IMG.astype("uint8")
    y = _train(L.RandomCrop(4, 3), x, KEYS[0])
    assert y.dtype == np.float32
    assert L.RandomCrop(4, 3).apply({}, x)[0].dtype == jnp.float32


def test_random_crop_vmap_over_keys():
    layer = L.RandomCrop(2, 2)
    out = jax.vmap(lambda k: layer.apply({}, IMG, training=True, rng=k)[0])(jnp.stack(KEYS))
    assert out.shape == (len(KEYS), 2, 2, 2, 3)
    assert len({np.asarray(o).tobytes() for o in out}) > 1


def test_random_crop_in_a_model_fit():
    import kerax

    model = kerax.Sequential([kerax.Input((6, 5, 3)), L.RandomCrop(4, 3), L.Flatten(),
                              L.Dense(1)])
    model.compile("sgd", "mse")
    model.fit(IMG, np.ones((2, 1), "float32"), epochs=1, verbose=0)
    assert model.predict(IMG, verbose=0).shape == (2, 1)


def test_random_crop_config_matches_keras(keras):
    layer = L.RandomCrop(4, 3, seed=7, data_format="channels_first", name="crop")
    config = layer.get_config()
    kconfig = keras.layers.RandomCrop(4, 3, seed=7, data_format="channels_first",
                                      name="crop").get_config()
    for k in ("name", "height", "width", "seed", "data_format"):
        assert config[k] == kconfig[k]
    assert L.RandomCrop.from_config(config).get_config() == config


def test_random_crop_errors():
    with pytest.raises(ValueError, match=r"RandomCrop: `height` must be a positive integer.*"
                                         r"Received: height=0"):
        L.RandomCrop(0, 3)
    with pytest.raises(ValueError, match=r"RandomCrop: `width` must be a positive integer.*"
                                         r"Received: width=2.5"):
        L.RandomCrop(3, 2.5)
    layer = L.RandomCrop(2, 2)
    with pytest.raises(ValueError, match=r"RandomCrop '.*' needs a random key in training "
                                         r"mode"):
        layer.apply({}, IMG, training=True)
    with pytest.raises(ValueError, match=r"RandomCrop '.*': expected rank >= 3 and rank <= 4, "
                                         r"received input of shape \(6, 5\)"):
        layer.apply({}, IMG[0, :, :, 0])


# ----------------------------------------------------------- colour augmentations --
X01 = IMG / 255
CHW = np.moveaxis(IMG, -1, 1)

# Layers whose training output does not depend on the draws: equal to Keras' own.
DETERMINISTIC = [
    ("RandomGrayscale", dict(factor=1.0), IMG),
    ("RandomGrayscale", dict(factor=0.0), IMG),
    ("RandomGrayscale", dict(factor=1.0, data_format="channels_first"), CHW),
    ("RandomInvert", dict(factor=(1.0, 1.0)), IMG),
    ("RandomInvert", dict(factor=(1.0, 1.0), value_range=(0, 1)), X01),
    ("RandomInvert", dict(factor=0.0), IMG),
    ("Solarization", {}, IMG),
    ("Solarization", dict(value_range=(0, 1)), X01),
    ("Solarization", dict(value_range=(-1, 1), data_format="channels_first"),
     np.moveaxis(X01, -1, 1) * 2 - 1),
    ("RandomPosterization", dict(factor=(4, 4)), IMG),
    ("RandomPosterization", dict(factor=1), IMG),
    ("RandomPosterization", dict(factor=(3, 3), value_range=(0, 1)), X01),
]


@pytest.mark.parametrize("name,kwargs,x", DETERMINISTIC,
                         ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(DETERMINISTIC)])
def test_deterministic_training_matches_keras(keras, name, kwargs, x):
    layer, klayer = getattr(L, name)(**kwargs), getattr(keras.layers, name)(**kwargs)
    for inp in (x, x[0]):  # a batch and one image
        want = np.asarray(klayer(inp, training=True))
        got = _train(layer, inp, KEYS[0])
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-5)
        np.testing.assert_allclose(layer.apply({}, inp)[0], klayer(inp, training=False),
                                   rtol=0, atol=0)


BATCH = RNG.uniform(0, 255, (16, 3, 2, 3)).astype("float32")
RANDOM = [L.RandomGrayscale(), L.RandomInvert(), L.RandomPosterization(8),
          L.Solarization(addition_factor=0.3, threshold_factor=(0.2, 0.6))]


@pytest.mark.parametrize("layer", RANDOM, ids=lambda l: type(l).__name__)
def test_random_colour_layers_in_training(layer):
    run = jax.jit(lambda x, k: layer.apply({}, x, training=True, rng=k)[0])
    outs = [np.asarray(run(BATCH, k)) for k in KEYS[:4]]
    for y in outs:
        assert y.shape == BATCH.shape and y.dtype == np.float32
        assert y.min() >= 0 and y.max() <= 255
    np.testing.assert_array_equal(outs[0], run(BATCH, KEYS[0]))
    assert len({y.tobytes() for y in outs}) == len(outs)
    assert not np.array_equal(outs[0], BATCH)
    np.testing.assert_array_equal(layer.apply({}, BATCH)[0], BATCH)
    with pytest.raises(ValueError, match="needs a random key in training mode"):
        layer.apply({}, BATCH, training=True)


def _per_image_choice(y, options):
    """For each image, the index of the option it equals (-1 if none)."""
    return [next((i for i, o in enumerate(options) if np.allclose(y[b], o[b], atol=1e-3)), -1)
            for b in range(len(y))]


def test_grayscale_and_invert_choose_per_image():
    gray = np.repeat(BATCH @ np.array([0.2989, 0.5870, 0.1140], "float32"), 3, -1)
    gray = gray.reshape(BATCH.shape)
    for layer, changed in ((L.RandomGrayscale(0.5), gray), (L.RandomInvert(), 255 - BATCH)):
        chosen = _per_image_choice(_train(layer, BATCH, KEYS[1]), [BATCH, changed])
        assert -1 not in chosen and set(chosen) == {0, 1}


def test_solarization_threshold_bounds_and_posterization_bits():
    # threshold ~ U(0.5, 0.5 * 255) (Keras' sampling): pixels below 0.5 are kept, pixels
    # at or above 127.5 are always solarized.
    x = np.concatenate([np.full((4, 1, 1, 3), 0.25), np.full((4, 1, 1, 3), 200.0)], 1)
    y = _train(L.Solarization(threshold_factor=(0.5, 0.5)), x.astype("float32"), KEYS[2])
    np.testing.assert_allclose(y[:, 0], 0.25)
    np.testing.assert_allclose(y[:, 1], 55.0)
    # factor=8: each image keeps 1..7 bits (Keras draws from [1, 8)), all 7 appear.
    y = _train(L.RandomPosterization(8), BATCH, KEYS[3])
    options = [np.left_shift(np.right_shift(BATCH.astype(np.uint8), 8 - b), 8 - b)
               for b in range(1, 8)]
    chosen = _per_image_choice(y, options)
    assert -1 not in chosen and len(set(chosen)) > 3


def test_colour_layers_in_a_model_fit():
    import kerax

    model = kerax.Sequential([kerax.Input((6, 5, 3)), L.RandomGrayscale(), L.RandomInvert(),
                              L.Solarization(0.1, 0.5), L.RandomPosterization(4),
                              L.Flatten(), L.Dense(1)])
    model.compile("sgd", "mse")
    model.fit(IMG / 255, np.ones((2, 1), "float32"), epochs=1, verbose=0)
    assert model.predict(IMG, verbose=0).shape == (2, 1)


def test_colour_layer_errors():
    with pytest.raises(ValueError, match=r"RandomGrayscale: `factor` must be a number between "
                                         r"0 and 1.*Received: factor=1.5"):
        L.RandomGrayscale(1.5)
    with pytest.raises(ValueError, match=r"RandomInvert: `factor` must be a number \(or a list "
                                         r"of two numbers\) in the range \[0, 1\]\. "
                                         r"Received: factor=\(2, 3\)"):
        L.RandomInvert((2, 3))
    with pytest.raises(ValueError, match=r"RandomInvert: `value_range` must be a list of two "
                                         r"numbers.*Received: value_range=255"):
        L.RandomInvert(value_range=255)
    with pytest.raises(ValueError, match=r"Solarization: `threshold_factor` must be.*"
                                         r"Received: threshold_factor=\(-0.1, 0.5\)"):
        L.Solarization(threshold_factor=(-0.1, 0.5))
    with pytest.raises(ValueError, match=r"Solarization: `addition_factor` must be.*"
                                         r"Received: addition_factor=2"):
        L.Solarization(addition_factor=2)
    with pytest.raises(ValueError, match=r"Solarization: `value_range` must be.*"
                                         r"Received: value_range=\(0, 1, 2\)"):
        L.Solarization(value_range=(0, 1, 2))
    with pytest.raises(ValueError, match=r"RandomPosterization: `factor` must be a number.*"
                                         r"range \[1, 8\]\. Received: factor=9"):
        L.RandomPosterization(9)
    with pytest.raises(ValueError, match=r"RandomPosterization: `value_range` must be"):
        L.RandomPosterization(4, value_range=[1])
    gray = L.RandomGrayscale(name="gray")
    with pytest.raises(LayerShapeError, match=r"RandomGrayscale 'gray': expected images with 1 "
                                              r"or 3 channels on axis -1 \(data_format="
                                              r"'channels_last'\), received input of shape "
                                              r"\(2, 4, 4, 2\)"):
        gray.apply({}, np.zeros((2, 4, 4, 2), "float32"))
    with pytest.raises(LayerShapeError, match=r"RandomPosterization '.*': expected rank >= 3 "
                                              r"and rank <= 4, received input of shape \(4,\)"):
        L.RandomPosterization(4).apply({}, np.zeros(4, "float32"))


def test_grayscale_keeps_one_channel_images_and_takes_lists():
    x = IMG[..., :1]
    np.testing.assert_array_equal(_train(L.RandomGrayscale(1.0), x, KEYS[0]), x)
    np.testing.assert_array_equal(_train(L.RandomGrayscale(0.0), IMG.tolist(), KEYS[0]), IMG)
