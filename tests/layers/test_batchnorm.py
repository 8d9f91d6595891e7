"""BatchNormalization's state, padding mask and Keras parity of the moving statistics."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from kerax.errors import LayerShapeError
from kerax.layers import BatchNormalization, GroupNormalization, LayerNormalization, batch_mask


@pytest.fixture(scope="module")
def data():
    return np.random.default_rng(0).standard_normal((6, 3)).astype("float32") * 2 + 1


def _init(layer, x):
    return layer.init(jax.random.PRNGKey(0), x)


def test_moving_statistics_match_keras(keras, data):
    layer, klayer = BatchNormalization(momentum=0.9), keras.layers.BatchNormalization(momentum=0.9)
    v = _init(layer, data)
    klayer(data)
    for _ in range(2):
        _, v["state"] = layer.apply(v, data, training=True)
        klayer(data, training=True)
    kmean, kvar = klayer.get_weights()[2:]
    np.testing.assert_allclose(v["state"]["moving_mean"], kmean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(v["state"]["moving_variance"], kvar, rtol=1e-5, atol=1e-6)


def test_inference_leaves_state_and_uses_moving_stats(data):
    layer = BatchNormalization()
    v = _init(layer, data)
    y, state = layer.apply(v, data, training=False)
    assert state is v["state"] or jax.tree_util.tree_all(
        jax.tree_util.tree_map(lambda a, b: bool(jnp.all(a == b)), state, v["state"]))
    np.testing.assert_allclose(y, data / np.sqrt(1 + 1e-3), rtol=1e-6)


def test_trainable_false_runs_in_inference_mode(data):
    layer = BatchNormalization(trainable=False)
    v = _init(layer, data)
    y, state = layer.apply(v, data, training=True)
    np.testing.assert_allclose(y, data / np.sqrt(1 + 1e-3), rtol=1e-6)
    np.testing.assert_array_equal(state["moving_mean"], v["state"]["moving_mean"])


def test_padded_rows_do_not_change_outputs_or_statistics(data):
    layer = BatchNormalization()
    v = _init(layer, data)
    garbage = np.full((2, 3), 1e3, "float32")
    padded = np.concatenate([data, garbage])
    rows = jnp.array([True] * 6 + [False] * 2)
    want, want_state = layer.apply(v, data, training=True)

    @jax.jit
    def step(v, x, rows):
        with batch_mask.use(rows):
            return layer.apply(v, x, training=True)

    got, got_state = step(v, padded, rows)
    np.testing.assert_allclose(got[:6], want, rtol=1e-5, atol=1e-5)
    for k in ("moving_mean", "moving_variance"):
        np.testing.assert_allclose(got_state[k], want_state[k], rtol=1e-6, atol=1e-6)
    assert batch_mask.current() is None


def test_sequence_mask_matches_keras(keras):
    x = np.random.default_rng(1).standard_normal((2, 4, 3)).astype("float32")
    mask = np.array([[1, 1, 0, 0], [1, 1, 1, 0]], bool)
    layer, klayer = BatchNormalization(), keras.layers.BatchNormalization()
    v = _init(layer, x)
    y, state = layer.apply(v, x, training=True, mask=jnp.asarray(mask))
    klayer(x)
    ky = klayer(x, training=True, mask=mask)
    np.testing.assert_allclose(y, ky, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(state["moving_variance"], klayer.get_weights()[3], rtol=1e-5)


def test_sequence_mask_of_wrong_rank_is_rejected(data):
    layer = BatchNormalization()
    v = _init(layer, data)
    with pytest.raises(ValueError, match="one dimension less than the inputs"):
        layer.apply(v, data, training=True, mask=jnp.ones((6, 3), bool))


def test_eager_call_keeps_updated_state(data):
    layer = BatchNormalization()
    layer(data, training=True)
    assert not np.allclose(layer.get_weights()[2], 0.0)
    assert len(layer.trainable_weights) == 2 and len(layer.non_trainable_weights) == 2


def test_renorm_is_rejected():
    with pytest.raises(NotImplementedError, match="renorm=True"):
        BatchNormalization(renorm=True)


def test_group_count_must_divide_channels():
    layer = GroupNormalization(groups=4)
    with pytest.raises(ValueError, match=r"channels \(6\) must be a multiple of `groups` \(4\)"):
        _init(layer, np.zeros((2, 6), "float32"))
    with pytest.raises(ValueError, match="invalid value for argument `groups`"):
        GroupNormalization(groups=0)


def test_axis_out_of_range_names_layer_and_shape():
    layer = LayerNormalization(axis=3)
    with pytest.raises(LayerShapeError, match=r"expected an input with an axis 3, received "
                                              r"input of shape \(2, 4\)"):
        _init(layer, np.zeros((2, 4), "float32"))
    with pytest.raises(TypeError, match="int or a list/tuple of ints"):
        LayerNormalization(axis="last")
