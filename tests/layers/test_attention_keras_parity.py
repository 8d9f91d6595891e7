"""Keras parity of MultiHeadAttention / GroupQueryAttention (positional inputs, masks),
Attention masks, and the attention layers' errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from kerax.layers import (AdditiveAttention, Attention, EinsumDense, GroupQueryAttention,
                          MultiHeadAttention)

RNG = np.random.default_rng(0)
Q = RNG.standard_normal((2, 4, 6)).astype("float32")
V = RNG.standard_normal((2, 3, 6)).astype("float32")
VALUE_MASK = np.array([[1, 1, 0], [0, 0, 0]], bool)   # second example: all keys masked
ATTN_MASK = RNG.random((2, 4, 3)) < 0.7


def _pair(keras, name, kwargs, *inputs, **call):
    layer = getattr(__import__("kerax").layers, name)(**kwargs)
    variables = layer.init(jax.random.PRNGKey(0), *inputs)
    layer.variables = variables
    klayer = getattr(keras.layers, name)(**kwargs)
    klayer(*inputs, **call)
    klayer.set_weights(layer.get_weights())
    return layer, variables, klayer


CALLS = [
    ("MultiHeadAttention", dict(num_heads=2, key_dim=3, value_dim=2, output_shape=(5,)),
     dict(value_mask=VALUE_MASK, return_attention_scores=True)),
    ("MultiHeadAttention", dict(num_heads=2, key_dim=3), dict(value_mask=VALUE_MASK)),
    ("MultiHeadAttention", dict(num_heads=3, key_dim=2, use_gate=True),
     dict(attention_mask=ATTN_MASK, key_mask=np.array([[1, 0, 1], [1, 1, 1]], bool))),
    ("MultiHeadAttention", dict(num_heads=2, key_dim=3, sliding_window=2),
     dict(use_causal_mask=True, value_mask=VALUE_MASK)),
    ("GroupQueryAttention", dict(head_dim=2, num_query_heads=4, num_key_value_heads=2),
     dict(value_mask=VALUE_MASK)),
    ("GroupQueryAttention", dict(head_dim=2, num_query_heads=2, num_key_value_heads=1),
     dict(attention_mask=ATTN_MASK, return_attention_scores=True)),
]


@pytest.mark.parametrize("name,kwargs,call", CALLS, ids=[f"{c[0]}-{i}" for i, c in
                                                         enumerate(CALLS)])
def test_parity_with_keras(keras, name, kwargs, call):
    layer, variables, klayer = _pair(keras, name, kwargs, Q, V, **call)
    got, _ = layer.apply(variables, Q, V, **call)
    want = klayer(Q, V, **call)
    for g, w in zip(jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(want)):
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-5)
    assert [w.shape for w in layer.get_weights()] == [w.shape for w in klayer.get_weights()]


def test_query_mask_is_honoured_like_the_equivalent_attention_mask():
    layer = MultiHeadAttention(num_heads=2, key_dim=3)
    variables = layer.init(jax.random.PRNGKey(0), Q, V)
    q_mask = np.array([[1, 1, 0, 1], [1, 0, 1, 1]], bool)
    got, _ = layer.apply(variables, Q, V, query_mask=q_mask)
    want, _ = layer.apply(variables, Q, V, attention_mask=np.repeat(q_mask[..., None], 3, -1))
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_weight_layout_and_order():
    layer = MultiHeadAttention(num_heads=2, key_dim=3, value_dim=4)
    layer.variables = layer.init(jax.random.PRNGKey(0), Q, V)
    shapes = [w.shape for w in layer.get_weights()]
    assert shapes == [(6, 2, 3), (2, 3), (6, 2, 3), (2, 3), (6, 2, 4), (2, 4), (2, 4, 6), (6,)]
    # The projection sub-layers are Keras' build record: the shell that builds writes them
    # (a pure `init` leaves the layer unchanged).
    layer = MultiHeadAttention(num_heads=2, key_dim=3, value_dim=4)
    layer(Q, V)
    assert [w.shape for w in layer.get_weights()] == shapes
    assert layer.query_dense.name == "query" and layer.output_dense.name == "attention_output"


def test_attention_masks_match_keras(keras):
    q_mask = np.array([[1, 1, 0], [1, 0, 1]], bool)
    v_mask = np.array([[1, 1, 0, 1, 0], [1, 1, 1, 1, 0]], bool)
    q, v = Q[:, :3, :4], RNG.standard_normal((2, 5, 4)).astype("float32")
    for cls in (Attention, AdditiveAttention):
        layer = cls()
        variables = layer.init(jax.random.PRNGKey(0), [q, v])
        layer.variables = variables
        klayer = getattr(keras.layers, cls.__name__)()
        klayer([q, v])
        klayer.set_weights(layer.get_weights())
        got, _ = layer.apply(variables, [q, v], mask=[q_mask, v_mask])
        np.testing.assert_allclose(got, klayer([q, v], mask=[q_mask, v_mask]), rtol=1e-5,
                                   atol=1e-6)
        np.testing.assert_array_equal(layer.compute_mask([q, v], [q_mask, v_mask]), q_mask)


def test_dropout_without_rng_draws_from_the_seed_state_or_says_how_to_call():
    layer = MultiHeadAttention(num_heads=1, key_dim=2, dropout=0.5, seed=2)
    variables = layer.init(jax.random.PRNGKey(0), Q, V)
    _, state = layer.apply(variables, Q, V, training=True)  # Keras: the seed state draws
    assert state["seed_generator"].tolist() == [2, 1]
    no_seed = {"params": variables["params"], "state": {}}
    with pytest.raises(ValueError, match="needs a random key in training mode"):
        layer.apply(no_seed, Q, V, training=True)
    out, _ = layer.apply(variables, Q, V, training=True, rng=jax.random.PRNGKey(1))
    assert out.shape == Q.shape


def test_argument_and_shape_errors():
    with pytest.raises(ValueError, match="invalid value for argument `num_heads`"):
        MultiHeadAttention(num_heads=0, key_dim=2)
    with pytest.raises(ValueError, match="`attention_axes` must be an int, list, or tuple"):
        MultiHeadAttention(num_heads=1, key_dim=2, attention_axes="1")
    with pytest.raises(ValueError, match="must be divisible by `num_key_value_heads`"):
        GroupQueryAttention(head_dim=2, num_query_heads=3, num_key_value_heads=2)
    mha = MultiHeadAttention(num_heads=1, key_dim=2)
    with pytest.raises(ValueError, match="All dimensions of `value` and `key`, except the last"):
        mha.init(jax.random.PRNGKey(0), Q, V, jnp.ones((2, 5, 6)))
    variables = mha.init(jax.random.PRNGKey(0), Q, V)
    with pytest.raises(ValueError, match="needs `query` and `value` inputs"):
        mha.apply(variables, Q)
    gqa = GroupQueryAttention(head_dim=2, num_query_heads=2, num_key_value_heads=1)
    with pytest.raises(ValueError, match="last dimension of `query_shape` and `value_shape`"):
        gqa.init(jax.random.PRNGKey(0), Q, V[..., :5])
    gv = gqa.init(jax.random.PRNGKey(0), Q, V)
    with pytest.raises(ValueError, match=r"GroupedQueryAttention '.*': expected rank 3 and "
                                         r"the last input axis to be 6"):
        gqa.apply(gv, Q[..., :5], V)
    with pytest.raises(ValueError, match="must be called on a list of inputs"):
        Attention().apply({}, Q)
    with pytest.raises(ValueError, match="accepts inputs list of length 2 or 3"):
        Attention().apply({}, [Q, V, V, V])
    with pytest.raises(ValueError, match="Invalid value for argument score_mode"):
        Attention(score_mode="add")
    with pytest.raises(ValueError, match="Invalid einsum equation 'ab->b'"):
        EinsumDense("ab->b", 3).init(jax.random.PRNGKey(0), jnp.ones((2, 3)))
    with pytest.raises(ValueError, match="Weight dimension 'z' did not have a match"):
        EinsumDense("ab,bz->ac", 3).init(jax.random.PRNGKey(0), jnp.ones((2, 3)))
