"""Recurrent layers beyond the generic conformance checks."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kerax
import kerax.layers as L
from kerax import ops

X = np.random.default_rng(0).standard_normal((2, 5, 3)).astype("float32")


def _primitives(jaxpr):
    out = []
    for eqn in jaxpr.eqns:
        out.append(eqn.primitive.name)
        for sub in jax.core.jaxprs_in_params(eqn.params) if hasattr(
                jax.core, "jaxprs_in_params") else []:
            out += _primitives(sub)
    return out


def test_long_lstm_is_one_scan_and_unroll_has_none():
    x = jnp.ones((1, 200, 3))
    layer = L.LSTM(4)
    v = layer.init(jax.random.PRNGKey(0), x)
    prims = [e.primitive.name for e in jax.make_jaxpr(lambda v: layer.apply(v, x)[0])(v).eqns]
    assert prims.count("scan") == 1 and len(prims) < 30
    short = jnp.ones((1, 5, 3))
    unrolled = L.LSTM(4, unroll=True)
    uv = unrolled.init(jax.random.PRNGKey(0), short)
    prims = [e.primitive.name for e in
             jax.make_jaxpr(lambda v: unrolled.apply(v, short)[0])(uv).eqns]
    assert "scan" not in prims
    ref = L.LSTM(4)
    np.testing.assert_allclose(unrolled.apply(uv, short)[0], ref.apply(uv, short)[0],
                               rtol=1e-5, atol=1e-6)


def test_stateful_matches_keras_across_calls(keras):
    layer, klayer = L.GRU(4, stateful=True), keras.layers.GRU(4, stateful=True)
    layer(X)
    klayer(X)
    klayer.reset_states()
    layer.reset_states()
    klayer.set_weights(layer.get_weights())
    for _ in range(2):
        np.testing.assert_allclose(layer(X), klayer(X), rtol=1e-4, atol=1e-5)
    assert layer.states[0].shape == (2, 4)
    layer.reset_states()
    klayer.reset_states()
    np.testing.assert_allclose(layer(X), klayer(X), rtol=1e-4, atol=1e-5)


def test_stateful_carry_lives_in_state_pytree():
    layer = L.SimpleRNN(4, stateful=True)
    v = layer.init(jax.random.PRNGKey(0), X)
    assert float(jnp.abs(v["state"]["states"][0]).sum()) == 0.0
    y1, s1 = jax.jit(layer.apply)(v, X)
    y2, _ = jax.jit(layer.apply)({"params": v["params"], "state": s1}, X)
    assert not np.allclose(y1, y2)
    layer.variables = v
    assert len(layer.get_weights()) == 3  # the carry is not a weight, as in Keras


def test_stateful_batch_mismatch_error():
    layer = L.LSTM(4, stateful=True)
    v = layer.init(jax.random.PRNGKey(0), X)
    with pytest.raises(ValueError, match="expected batch size 2, received 3"):
        layer.apply(v, np.zeros((3, 5, 3), "float32"))


def test_initial_state_matches_keras(keras):
    h = np.random.default_rng(2).standard_normal((2, 4)).astype("float32")
    layer, klayer = L.LSTM(4, return_sequences=True), keras.layers.LSTM(4, return_sequences=True)
    layer(X)
    klayer(X)
    klayer.set_weights(layer.get_weights())
    np.testing.assert_allclose(layer(X, initial_state=[h, -h]),
                               klayer(X, initial_state=[h, -h]), rtol=1e-4, atol=1e-5)


def test_dropout_is_deterministic_per_key_and_off_at_inference():
    layer = L.LSTM(4, dropout=0.5, recurrent_dropout=0.5)
    v = layer.init(jax.random.PRNGKey(0), X)
    a = layer.apply(v, X, training=True, rng=jax.random.PRNGKey(1))[0]
    b = layer.apply(v, X, training=True, rng=jax.random.PRNGKey(1))[0]
    c = layer.apply(v, X, training=True, rng=jax.random.PRNGKey(2))[0]
    plain = L.LSTM(4)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    np.testing.assert_allclose(layer.apply(v, X)[0], plain.apply(v, X)[0], rtol=1e-6)
    with pytest.raises(ValueError, match="needs a random key in training mode"):
        layer.apply({"params": v["params"], "state": {}}, X, training=True)  # no seed state
    seeded, state = layer.apply(v, X, training=True)  # drawn from the cell's seed state
    np.testing.assert_array_equal(seeded, layer.apply(v, X, training=True)[0])
    assert not np.allclose(seeded, a)
    assert state["cell"]["seed_generator"][1] == v["state"]["cell"]["seed_generator"][1] + 2


def test_masked_steps_keep_state():
    layer = L.GRU(4, return_sequences=True, return_state=True)
    v = layer.init(jax.random.PRNGKey(0), X)
    mask = np.array([[1, 1, 0, 0, 0], [1, 1, 1, 1, 1]], bool)
    (seq, h), _ = layer.apply(v, X, mask=mask)
    (seq2, h2), _ = layer.apply(v, X[:, :2])
    np.testing.assert_allclose(h[0], h2[0], rtol=1e-6)
    np.testing.assert_allclose(seq[0, 4], seq2[0, 1], rtol=1e-6)
    assert layer.compute_mask(X, mask)[0] is mask


class MinimalCell(L.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = self.state_size = units

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")
        self.recurrent = self.add_weight(shape=(self.units, self.units), name="recurrent")

    def call(self, inputs, states):
        h = ops.matmul(inputs, self.kernel) + ops.matmul(states[0], self.recurrent)
        return h, [h]


def test_user_cell_with_state_size():
    layer = L.RNN(MinimalCell(4), return_sequences=True)
    v = layer.init(jax.random.PRNGKey(0), X)
    y, _ = layer.apply(v, X)
    k, r = v["params"]["cell"]["kernel"], v["params"]["cell"]["recurrent"]
    h = np.zeros((2, 4), "float32")
    for t in range(5):
        h = X[:, t] @ k + h @ r
    np.testing.assert_allclose(y[:, -1], h, rtol=1e-5, atol=1e-6)


def test_rnn_argument_errors():
    with pytest.raises(ValueError, match="has no `state_size`"):
        L.RNN(L.Dense(3))
    with pytest.raises(ValueError, match="use_cudnn"):
        L.LSTM(3, use_cudnn="yes")
    with pytest.raises(ValueError, match="expected a positive integer, got 0"):
        L.GRU(0)
    with pytest.raises(ValueError, match="Invalid merge mode"):
        L.Bidirectional(L.LSTM(3), merge_mode="max")
    with pytest.raises(ValueError, match="different `go_backwards`"):
        L.Bidirectional(L.LSTM(3), backward_layer=L.LSTM(3))
    with pytest.raises(ValueError, match='same value for attribute "return_sequences"'):
        L.Bidirectional(L.LSTM(3), backward_layer=L.LSTM(3, go_backwards=True,
                                                         return_sequences=True))
    with pytest.raises(ValueError, match="with a `keras.layers.Layer` instance"):
        L.TimeDistributed("dense")
    with pytest.raises(ValueError, match="with a `keras.layers.Layer` instance"):
        L.Bidirectional("lstm")
    with pytest.raises(ValueError, match="must have a `state_size`"):
        L.StackedRNNCells([L.Dense(3)])
    with pytest.raises(ValueError, match="the batch size must be static"):
        L.LSTM(3, stateful=True).build_variables(
            jax.random.PRNGKey(0), kerax.KerasTensor((None, 5, 3)))


def test_time_distributed_mask_shape_error():
    layer = L.TimeDistributed(L.Dense(2))
    v = layer.init(jax.random.PRNGKey(0), X)
    with pytest.raises(ValueError, match="incompatible with the input shape"):
        layer.apply(v, X, mask=np.ones((2, 4), bool))


def test_bidirectional_stateful_reset_and_config_round_trip():
    layer = L.Bidirectional(L.SimpleRNN(3, stateful=True), merge_mode="sum")
    first = layer(X)
    assert not np.allclose(layer(X), first)
    layer.reset_states()
    np.testing.assert_allclose(layer(X), first, rtol=1e-6)
    clone = L.Bidirectional.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
