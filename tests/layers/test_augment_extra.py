"""Image augmentation layers beyond the generic conformance checks: training mode, Keras'
inference rules, determinism per key, errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kerax.layers as L

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


def test_random_crop_training_edge_sizes():
    # Equal size: the identity. One equal side: random along the other side only.
    np.testing.assert_array_equal(_train(L.RandomCrop(6, 5), IMG, KEYS[0]), IMG)
    tops = {int(np.argmax([np.array_equal(_train(L.RandomCrop(4, 5), IMG, k), IMG[:, t:t + 4])
                           for t in range(3)])) for k in KEYS}
    assert len(tops) > 1
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
    with pytest.raises(ValueError, match=r"RandomCrop '.*' is random in training mode and "
                                         r"needs a key"):
        layer.apply({}, IMG, training=True)
    with pytest.raises(ValueError, match=r"RandomCrop '.*': expected rank >= 3 and rank <= 4, "
                                         r"received input of shape \(6, 5\)"):
        layer.apply({}, IMG[0, :, :, 0])
