"""Random regularization layers: training-mode behaviour, rng errors, activity penalty."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from kerax.layers import (ActivityRegularization, AlphaDropout, GaussianDropout, GaussianNoise,
                          SpatialDropout1D, SpatialDropout2D, SpatialDropout3D, batch_mask)

KEY = jax.random.PRNGKey(3)
X = jnp.asarray(np.random.default_rng(0).standard_normal((64, 8, 16)), jnp.float32)


@pytest.mark.parametrize("layer", [SpatialDropout1D(0.5), GaussianNoise(0.5),
                                   GaussianDropout(0.5), AlphaDropout(0.5)],
                         ids=lambda lay: type(lay).__name__)
def test_training_without_rng_says_how_to_call(layer):
    with pytest.raises(ValueError, match=f"{type(layer).__name__} '{layer.name}' needs a "
                                         "random key in training mode"):
        layer.apply({}, X, training=True)


@pytest.mark.parametrize("cls", [GaussianNoise, GaussianDropout, AlphaDropout,
                                 SpatialDropout1D])
def test_rate_out_of_range_is_rejected(cls):
    with pytest.raises(ValueError, match="Expected a float value between 0 and 1"):
        cls(1.5)


def test_spatial_dropout_drops_whole_channels():
    y, _ = SpatialDropout1D(0.5).apply({}, X, training=True, rng=KEY)
    kept = np.asarray(y != 0)
    assert np.all(kept == kept[:, :1, :])
    np.testing.assert_allclose(np.asarray(y)[kept], 2 * np.asarray(X)[kept], rtol=1e-6)
    assert 0.35 < kept.mean() < 0.65
    x4 = jnp.ones((8, 3, 3, 4))
    y4, _ = SpatialDropout2D(0.5, data_format="channels_first").apply({}, x4, training=True,
                                                                      rng=KEY)
    assert np.all(np.asarray(y4) == np.asarray(y4)[:, :, :1, :1])
    y5, _ = SpatialDropout3D(0.5).apply({}, jnp.ones((8, 2, 2, 2, 4)), training=True, rng=KEY)
    assert np.all(np.asarray(y5) == np.asarray(y5)[:, :1, :1, :1, :])


def test_noise_statistics_and_inference_identity():
    ones = jnp.ones((200, 50))
    g, _ = GaussianDropout(0.2).apply({}, ones, training=True, rng=KEY)
    assert abs(float(g.mean()) - 1) < 0.02 and abs(float(g.std()) - 0.5) < 0.02
    n, _ = GaussianNoise(0.3).apply({}, 0 * ones, training=True, rng=KEY)
    assert abs(float(n.std()) - 0.3) < 0.01
    for layer in (GaussianNoise(0.3), GaussianDropout(0.2), AlphaDropout(0.2)):
        assert layer.apply({}, ones, training=False)[0] is ones


def test_alpha_dropout_keeps_selu_statistics():
    x = jax.random.normal(KEY, (400, 100))
    y, _ = AlphaDropout(0.3).apply({}, x, training=True, rng=jax.random.PRNGKey(1))
    assert abs(float(y.mean())) < 0.03 and abs(float(y.std()) - 1) < 0.03


def test_same_rng_same_noise_different_rng_different_noise():
    layer = GaussianNoise(0.5)
    a = layer.apply({}, X, training=True, rng=KEY)[0]
    b = layer.apply({}, X, training=True, rng=KEY)[0]
    c = layer.apply({}, X, training=True, rng=jax.random.PRNGKey(4))[0]
    assert bool(jnp.all(a == b)) and not bool(jnp.all(a == c))


def test_activity_penalty_matches_keras_loss(keras):
    x = np.asarray(X[:4])
    klayer = keras.layers.ActivityRegularization(l1=0.01, l2=0.001)
    klayer(x)
    layer = ActivityRegularization(l1=0.01, l2=0.001)
    np.testing.assert_allclose(layer.penalty(x), float(klayer.losses[0]), rtol=1e-5)


def test_activity_penalty_ignores_padded_rows():
    layer = ActivityRegularization(l2=0.1)
    x = np.asarray(X[:4])
    padded = np.concatenate([x, np.full((2,) + x.shape[1:], 7.0, "float32")])
    with batch_mask.use(jnp.array([True] * 4 + [False] * 2)):
        got = layer.penalty(padded)
    np.testing.assert_allclose(got, layer.penalty(x), rtol=1e-6)
