"""Mask creation (Embedding, Masking) and the propagation helpers, against Keras 3."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from kerax.layers import (BatchNormalization, Dense, Dropout, Embedding, Identity, Masking,
                          MultiHeadAttention)
from kerax.layers.core.masking import mask_kwargs, output_mask

IDS = np.array([[3, 1, 0, 0], [2, 0, 5, 0]], "int32")


def test_embedding_mask_matches_keras(keras):
    np.testing.assert_array_equal(
        Embedding(6, 2, mask_zero=True).compute_mask(IDS),
        keras.layers.Embedding(6, 2, mask_zero=True).compute_mask(IDS))
    assert Embedding(6, 2).compute_mask(IDS) is None
    assert not Embedding(6, 2).supports_masking


def test_masking_output_and_mask_match_keras(keras):
    x = np.random.default_rng(0).standard_normal((2, 4, 3)).astype("float32")
    x[0, 1] = 0.0
    x[1, 1, 0] = 0.0  # only one feature equal: not masked
    layer, klayer = Masking(), keras.layers.Masking()
    np.testing.assert_array_equal(layer.apply({}, x)[0], klayer(x))
    np.testing.assert_array_equal(layer.compute_mask(x), klayer.compute_mask(x))
    assert layer.compute_mask(x).tolist() == [[True, False, True, True]] * 1 + [[True] * 4]


def test_output_mask_follows_keras_rules():
    mask = jnp.asarray(IDS != 0)
    emb = Embedding(6, 2, mask_zero=True)
    np.testing.assert_array_equal(output_mask(emb, IDS, None), mask)
    for passthrough in (Dropout(0.5), Identity(), BatchNormalization(), Dense(2)):
        assert output_mask(passthrough, None, mask) is mask
    assert output_mask(Embedding(6, 2), IDS, mask) is None


def test_mask_kwargs_single_and_multiple_inputs():
    m = jnp.ones((2, 4), bool)
    assert set(mask_kwargs(BatchNormalization(), {"inputs": m})) == {"mask"}
    assert mask_kwargs(Identity(), {"inputs": m}) == {}
    mha = MultiHeadAttention(num_heads=1, key_dim=2)
    kw = mask_kwargs(mha, {"query": m, "value": m, "key": None})
    assert set(kw) == {"query_mask", "value_mask"}
    assert mask_kwargs(mha, {"query": m, "value": m}, given={"query_mask": m}) == \
        {"value_mask": m}


def test_embedding_weights_argument_and_input_length(keras):
    table = np.arange(12, dtype="float32").reshape(6, 2)
    with pytest.warns(UserWarning, match="input_length"):
        layer = Embedding(6, 2, weights=[table], input_length=4)
    np.testing.assert_array_equal(layer(IDS), table[IDS])
    np.testing.assert_array_equal(layer.embeddings, table)


def test_embedding_rejects_bad_sizes():
    with pytest.raises(ValueError, match=r"`input_dim` must be a positive integer. Received: "
                                         r"input_dim=0"):
        Embedding(0, 2)
    with pytest.raises(ValueError, match="`output_dim` must be a positive integer"):
        Embedding(3, True)


def test_embedding_then_masked_batchnorm_matches_keras(keras):
    emb, bn = Embedding(6, 3), BatchNormalization()
    kemb, kbn = keras.layers.Embedding(6, 3, mask_zero=True), keras.layers.BatchNormalization()
    ve = emb.init(jax.random.PRNGKey(0), IDS)
    h, _ = emb.apply(ve, IDS)
    vb = bn.init(jax.random.PRNGKey(0), h)
    kemb(IDS)
    kemb.set_weights([ve["params"]["embeddings"]])
    mask = Embedding(6, 3, mask_zero=True).compute_mask(IDS)
    y, _ = bn.apply(vb, h, training=True, **mask_kwargs(bn, {"inputs": mask}))
    ky = kbn(kemb(IDS), training=True)  # Keras propagates the mask itself
    np.testing.assert_allclose(y, ky, rtol=1e-4, atol=1e-5)
