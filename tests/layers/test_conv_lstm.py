"""ConvLSTM1D/2D/3D beyond the conformance cases: masks, weights, dropout and errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from kerax.layers import ConvLSTM1D, ConvLSTM2D

X = np.random.default_rng(0).standard_normal((2, 3, 5, 5, 2)).astype("float32")


@pytest.fixture(scope="module")
def built():
    layer = ConvLSTM2D(2, 3, return_sequences=True)
    return layer, layer.init(jax.random.PRNGKey(0), X)


def test_weights_in_keras_layout(built):
    layer, v = built
    p = v["params"]["cell"]
    assert [p[k].shape for k in ("kernel", "recurrent_kernel", "bias")] == [
        (3, 3, 2, 8), (3, 3, 2, 8), (8,)]
    np.testing.assert_array_equal(p["bias"], [0, 0, 1, 1, 0, 0, 0, 0])


def test_masked_step_keeps_previous_output(built):
    layer, v = built
    mask = np.array([[1, 1, 0], [1, 1, 1]], bool)
    y, _ = layer.apply(v, X, mask=mask)
    full, _ = layer.apply(v, X)
    np.testing.assert_allclose(y[0, 2], full[0, 1], atol=1e-6)
    np.testing.assert_allclose(y[1], full[1], atol=1e-6)


def test_initial_state_and_stateful():
    layer = ConvLSTM1D(2, 3, padding="same", return_state=True)
    x = X[:, :, :, 0, :]
    v = layer.init(jax.random.PRNGKey(1), x)
    _, h, c = layer.apply(v, x)[0]
    y2 = layer.apply(v, x, initial_state=[h, c])[0][0]
    stateful = ConvLSTM1D(2, 3, padding="same", stateful=True)
    sv = stateful.init(jax.random.PRNGKey(1), x)
    _, sv_state = stateful.apply(sv, x)
    y_next, _ = stateful.apply({"params": sv["params"], "state": sv_state}, x)
    np.testing.assert_allclose(y_next, y2, atol=1e-6)


def test_dropout_needs_rng_and_changes_training_output():
    layer = ConvLSTM1D(2, 3, dropout=0.5, recurrent_dropout=0.5)
    x = X[:, :, 0]
    v = layer.init(jax.random.PRNGKey(0), x)
    with pytest.raises(ValueError, match="needs a random key"):  # no key, no seed state
        layer.apply({"params": v["params"], "state": {}}, x, training=True)
    seeded, state = layer.apply(v, x, training=True)  # the cell's seed state, as Keras
    assert not jnp.allclose(seeded, layer.apply(v, x)[0])
    assert (state["cell"]["seed_generator"] - v["state"]["cell"]["seed_generator"]).tolist() \
        == [0, 2]
    y_train, _ = layer.apply(v, x, training=True, rng=jax.random.PRNGKey(3))
    y_eval, _ = layer.apply(v, x)
    assert not jnp.allclose(y_train, y_eval)


@pytest.mark.parametrize("kwargs, match", [
    (dict(filters=0, kernel_size=3), "`filters` must be a positive integer"),
    (dict(filters=2, kernel_size=3, strides=2, dilation_rate=2),
     "`strides > 1` cannot be combined with `dilation_rate > 1`"),
])
def test_argument_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ConvLSTM2D(**kwargs)
