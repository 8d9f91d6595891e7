"""Colour/contrast image layers beyond the generic conformance checks: Keras parity on
more inputs, training-mode draws, determinism per key, errors."""

import jax
import numpy as np
import pytest

import kerax.layers as L
from kerax.errors import LayerShapeError

RNG = np.random.default_rng(0)
KEYS = [jax.random.PRNGKey(i) for i in range(6)]
RANGES = [(0, 255), (0, 1), (-1, 1)]


def _img(value_range=(0, 255), shape=(2, 6, 5, 3)):
    return RNG.uniform(*value_range, shape).astype("float32")


def _train(layer, x, key=KEYS[0]):
    return np.asarray(layer.apply({}, x, training=True, rng=key)[0])


def _close(got, want, atol=1e-5):
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-5, atol=atol)


# ------------------------------------------------------- AutoContrast, Equalization --
@pytest.mark.parametrize("value_range", RANGES)
@pytest.mark.parametrize("name, kwargs", [("AutoContrast", {}), ("Equalization", {}),
                                          ("Equalization", {"bins": 16})])
def test_contrast_layers_match_keras(keras, name, kwargs, value_range):
    x = _img(value_range)
    want = getattr(keras.layers, name)(value_range=value_range, **kwargs)(x, training=True)
    layer = getattr(L, name)(value_range=value_range, **kwargs)
    _close(_train(layer, x), want)
    single = getattr(keras.layers, name)(value_range=value_range, **kwargs)(x[0])
    _close(_train(layer, x[0]), single)


@pytest.mark.parametrize("name", ["AutoContrast", "Equalization"])
def test_contrast_layers_constant_and_integer_images(keras, name):
    inputs = [np.full((1, 3, 4, 3), 7.0, "float32"),
              RNG.integers(0, 256, (2, 6, 5, 3)).astype("uint8"),
              RNG.integers(0, 40, (2, 6, 5, 3)).astype("float32")]
    for x in inputs:
        got = getattr(L, name)()(x)  # eager call: training by default, as Keras
        assert got.dtype == np.float32
        _close(got, getattr(keras.layers, name)()(x))
    _close(getattr(L, name)()(inputs[0]), inputs[0])


def test_equalization_channels_first_and_inference(keras):
    x = _img(shape=(2, 3, 6, 5))
    want = keras.layers.Equalization(data_format="channels_first")(x)
    _close(_train(L.Equalization(data_format="channels_first"), x), want)
    _close(L.Equalization().apply({}, x)[0], x)  # identity at inference, as Keras


def test_autocontrast_channels_first_stretches_each_channel(keras):
    # Keras 3.15 reduces channels_first batches over (channels, height); kerax over
    # (height, width) in both layouts, i.e. Keras' channels_last result transposed.
    x = _img((0, 1))
    want = keras.layers.AutoContrast(value_range=(0, 1))(x)
    got = _train(L.AutoContrast(value_range=(0, 1), data_format="channels_first"),
                 np.moveaxis(x, -1, 1))
    _close(np.moveaxis(got, 1, -1), want)
    assert np.allclose(got.min(axis=(2, 3)), 0) and np.allclose(got.max(axis=(2, 3)), 1)
    _close(L.AutoContrast().apply({}, x * 255)[0], want * 255, atol=1e-3)  # also inference


# ------------------------------------------ RandomSharpness, Saturation, Hue: Keras --
FIXED = [("RandomSharpness", (0.5, 0.5)), ("RandomSharpness", 0.0),
         ("RandomSharpness", (0.9, 0.9)), ("RandomSaturation", 0.0),
         ("RandomSaturation", (0.5, 0.5)), ("RandomSaturation", (0.8, 0.8)),
         ("RandomHue", 0.0), ("RandomHue", (1.0, 1.0))]


@pytest.mark.parametrize("value_range", [(0, 255), (0, 1)])
@pytest.mark.parametrize("name, factor", FIXED)
def test_fixed_factor_jitter_matches_keras(keras, name, factor, value_range):
    x = _img(value_range)
    kw = dict(factor=factor, value_range=value_range)
    want = getattr(keras.layers, name)(**kw)(x, training=True)
    _close(_train(getattr(L, name)(**kw), x), want, atol=1e-4 * value_range[1])


@pytest.mark.parametrize("name, factor", [("RandomSharpness", (0.9, 0.9)),
                                          ("RandomSaturation", (0.2, 0.2)),
                                          ("RandomHue", (1.0, 1.0))])
def test_fixed_factor_jitter_channels_first_and_eager_default(keras, name, factor):
    x = _img(shape=(2, 3, 6, 5))
    klayer = getattr(keras.layers, name)(factor, data_format="channels_first")
    layer = getattr(L, name)(factor, data_format="channels_first")
    _close(layer(x), klayer(x), atol=1e-3)   # called eagerly: trains, as in Keras
    _close(layer(x, training=False), x)
    _close(layer(x[0], training=True), klayer(x[0]), atol=1e-3)


def test_saturation_and_sharpness_factor_rules_follow_keras(keras):
    for factor in (0.5, -0.3, (0.2, 0.7)):
        assert L.RandomSaturation(factor).factor == keras.layers.RandomSaturation(factor).factor
    for name in ("RandomSharpness", "RandomHue"):
        assert getattr(L, name)(0.3).factor == getattr(keras.layers, name)(0.3).factor


# ----------------------------------------------------- random draws: keys, ranges ---
RANDOM = [L.RandomSharpness(0.9), L.RandomSaturation(0.9), L.RandomHue(0.8),
          L.RandomHue((0.3, 0.6), value_range=(0, 1))]


@pytest.mark.parametrize("layer", RANDOM, ids=lambda layer: layer.name)
def test_random_jitter_draws_per_key_and_image(layer):
    lo, hi = layer.value_range
    x = _img((lo, hi), (4, 6, 5, 3))
    run = jax.jit(lambda x, k: layer.apply({}, x, training=True, rng=k)[0])
    outs = [np.asarray(run(x, k)) for k in KEYS[:3]]
    for y in outs:
        assert y.shape == x.shape and y.dtype == np.float32
        if not isinstance(layer, L.RandomSaturation):  # saturation above 1 can overshoot
            assert y.min() >= lo - 1e-4 and y.max() <= hi + 1e-4
    assert not np.allclose(outs[0], outs[1])
    np.testing.assert_array_equal(np.asarray(run(x, KEYS[0])), outs[0])
    change = [np.abs(outs[0][i] - x[i]).mean() for i in range(4)]
    assert len({round(float(c), 3) for c in change}) > 1  # each image draws its own
    batched = jax.vmap(lambda xi: layer.apply({}, xi, training=True, rng=KEYS[0])[0])(x)
    assert batched.shape == x.shape
    np.testing.assert_array_equal(np.asarray(layer.apply({}, x)[0]), x)


def test_random_hue_keeps_grays_and_saturation_zero_is_grayscale():
    gray = np.repeat(_img(shape=(2, 4, 4, 1)), 3, axis=-1)
    _close(_train(L.RandomHue(1.0), gray), gray, atol=1e-3)
    y = _train(L.RandomSaturation((0.0, 0.0)), _img())
    _close(y[..., 0], y[..., 1], atol=1e-3)
    _close(y[..., 1], y[..., 2], atol=1e-3)


def test_config_round_trip_keeps_outputs():
    for layer in RANDOM + [L.Equalization(bins=32, value_range=(0, 1)), L.AutoContrast()]:
        clone = type(layer).from_config(layer.get_config())
        x = _img(tuple(layer.value_range))
        np.testing.assert_array_equal(_train(clone, x), _train(layer, x))


# -------------------------------------------------------------------------- errors --
@pytest.mark.parametrize("make, match", [
    (lambda: L.RandomSharpness(1.5), r"RandomSharpness: `factor` .* range \[0, 1\]. "
                                     r"Received: factor=1.5"),
    (lambda: L.RandomHue((0.1, 0.2, 0.3)), r"RandomHue: `factor` .*factor=\(0.1, 0.2, 0.3\)"),
    (lambda: L.RandomSaturation("high"), r"RandomSaturation: `factor` .*\[-1, 1\]"),
    (lambda: L.RandomSaturation(0.2, value_range=5), r"RandomSaturation: `value_range` "
                                                     r"must be .*value_range=5"),
    (lambda: L.AutoContrast(value_range=(0, 1, 2)), r"AutoContrast: `value_range`"),
    (lambda: L.AutoContrast(factor=0.3), r"AutoContrast does not take a `factor`"),
    (lambda: L.Equalization(bins=1), r"Equalization: `bins` must be an integer .*bins=1"),
    (lambda: L.Equalization(data_format="channels_middle"), r"channels_first"),
])
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize("layer", [L.AutoContrast(), L.Equalization(), L.RandomHue(0.2)],
                         ids=lambda layer: type(layer).__name__)
def test_wrong_rank_names_layer_expected_and_received(layer):
    with pytest.raises(LayerShapeError, match=rf"{type(layer).__name__} '{layer.name}': "
                       r"expected rank >= 3 and rank <= 4, received input of shape \(2, 3\)"):
        layer.apply({}, np.zeros((2, 3), "float32"), training=True, rng=KEYS[0])


@pytest.mark.parametrize("name", ["RandomHue", "RandomSaturation"])
def test_hue_and_saturation_need_rgb(name):
    layer = getattr(L, name)(0.2, data_format="channels_first")
    with pytest.raises(LayerShapeError, match=rf"{name} '{layer.name}': expected RGB images "
                       r"with 3 channels on axis -3 .*received input of shape \(2, 4, 5, 5\)"):
        layer.apply({}, np.zeros((2, 4, 5, 5), "float32"))


def test_random_jitter_in_training_needs_a_key():
    layer = L.RandomSharpness(0.3)
    with pytest.raises(ValueError, match=r"RandomSharpness '.*' needs a random key in "
                                         r"training mode"):
        layer.apply({}, _img(), training=True)
