"""Symbolic shapes with unknown non-batch dimensions (sequence lengths, image sizes) are the
ones Keras 3 infers: `None` where the output follows an unknown input dimension."""

import numpy as np
import pytest

import kerax


def _graphs(lib):
    L = lib.layers
    seq, tokens, image = lib.Input((None, 4)), lib.Input((None,), dtype="int32"), \
        lib.Input((None, None, 3))
    emb = L.Embedding(10, 4)(tokens)
    conv = L.Conv2D(4, 3, padding="same")(image)
    return {
        "dense": L.Dense(3)(seq),
        "embedding": emb,
        "lstm_sequences": L.LSTM(5, return_sequences=True)(emb),
        "lstm_last": L.LSTM(5)(emb),
        "conv1d_valid": L.Conv1D(2, 3)(seq),
        "conv2d_same": conv,
        "pool": L.MaxPooling2D(2)(conv),
        "global_pool": L.GlobalAveragePooling2D()(conv),
        "mha": L.MultiHeadAttention(2, 4)(seq, seq),
        "fixed_then_batch_only": L.Dense(2)(lib.Input((7,))),
    }


@pytest.fixture(scope="module")
def shapes_pair(keras):
    return ({k: tuple(v.shape) for k, v in _graphs(kerax).items()},
            {k: tuple(v.shape) for k, v in _graphs(keras).items()})


@pytest.mark.parametrize("name", ["dense", "embedding", "lstm_sequences", "lstm_last",
                                  "conv1d_valid", "conv2d_same", "pool", "global_pool",
                                  "mha", "fixed_then_batch_only"])
def test_symbolic_shape_matches_keras(shapes_pair, name):
    ours, theirs = shapes_pair
    assert ours[name] == theirs[name]


def test_model_on_variable_length_input_runs_at_any_length():
    tokens = kerax.Input((None,), dtype="int32")
    x = kerax.layers.Embedding(10, 4)(tokens)
    x = kerax.layers.Dense(3)(x)
    model = kerax.Model(tokens, x)
    assert model.output_shape == (None, None, 3)
    for length in (2, 5):
        out = model.predict(np.ones((2, length), "int32"), verbose=0)
        assert out.shape == (2, length, 3)


def test_python_keyword_flags_reach_layers_untraced(keras):
    """`use_causal_mask=True` in a functional graph is a flag, not a traced value: the
    model equals Keras' (it used to fail while building the graph)."""
    x = np.random.default_rng(1).standard_normal((2, 5, 8)).astype("float32")
    models = []
    for lib in (kerax, keras):
        inputs = lib.Input((5, 8))
        outputs = lib.layers.MultiHeadAttention(2, 4)(inputs, inputs, use_causal_mask=True)
        models.append(lib.Model(inputs, outputs))
    models[0].set_weights(models[1].get_weights())
    np.testing.assert_allclose(models[0].predict(x, verbose=0), models[1].predict(x, verbose=0),
                               rtol=1e-5, atol=1e-5)
