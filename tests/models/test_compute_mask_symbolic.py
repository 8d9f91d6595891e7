"""`compute_mask` on symbolic tensors (`keras.Input`) vs Keras 3: the built-in layers
that define it return a symbolic mask of Keras' shape and dtype (or None) instead of
failing on `jnp` of a KerasTensor."""

import numpy as np
import pytest

import kerax

IDS = np.array([[3, 1, 0, 0], [2, 0, 5, 1]], "int32")


def _cases(lib):
    L = lib.layers
    ids = lib.Input((None,), dtype="int32")
    f = lib.Input((5, 3))
    m = lib.Input((5,), dtype="bool")
    return {
        "embedding": lambda: L.Embedding(10, 4, mask_zero=True).compute_mask(ids),
        "embedding_no_mask_zero": lambda: L.Embedding(10, 4).compute_mask(ids),
        "masking": lambda: L.Masking(0.0).compute_mask(f),
        "reversible_embedding_reverse": lambda: L.ReversibleEmbedding(
            10, 3, mask_zero=True).compute_mask(f),
        "attention": lambda: L.Attention().compute_mask([f, f], [m, m]),
        "attention_no_mask": lambda: L.Attention().compute_mask([f, f], None),
        "batch_norm": lambda: L.BatchNormalization().compute_mask(f, m),
        "layer_norm": lambda: L.LayerNormalization().compute_mask(f, m),
        "group_norm": lambda: L.GroupNormalization(groups=3).compute_mask(f, m),
        "unit_norm": lambda: L.UnitNormalization().compute_mask(f, m),
        "lstm": lambda: L.LSTM(2, return_sequences=True).compute_mask(f, m),
        "lstm_state": lambda: L.LSTM(2, return_sequences=True,
                                     return_state=True).compute_mask(f, m),
        "bidirectional": lambda: L.Bidirectional(
            L.LSTM(2, return_sequences=True)).compute_mask(f, m),
        "time_distributed": lambda: L.TimeDistributed(L.Dense(2)).compute_mask(f, m),
    }


def _describe(mask):
    if isinstance(mask, (list, tuple)):
        return [_describe(m) for m in mask]
    return None if mask is None else (tuple(mask.shape), str(mask.dtype))


@pytest.mark.parametrize("name", sorted(_cases(kerax)))
def test_symbolic_compute_mask_as_keras(keras, name):
    ours = _cases(kerax)[name]()
    theirs = _cases(keras)[name]()
    assert _describe(ours) == _describe(theirs)
    for m in _non_none(ours):
        assert isinstance(m, kerax.KerasTensor)


def _non_none(mask):
    return [m for m in (mask if isinstance(mask, (list, tuple)) else [mask]) if m is not None]


def test_symbolic_embedding_mask_is_a_graph_output(keras):
    outs = []
    for lib in (kerax, keras):
        ids = lib.Input((None,), dtype="int32")
        mask = lib.layers.Embedding(10, 4, mask_zero=True).compute_mask(ids)
        model = lib.Model(ids, lib.ops.cast(mask, "float32"))
        outs.append(np.asarray(model.predict(IDS, verbose=0)))
    np.testing.assert_array_equal(outs[0], outs[1])
    np.testing.assert_array_equal(outs[0], IDS != 0)


def test_symbolic_masking_mask_is_a_graph_output(keras):
    x = np.array([[[1.0, 2.0], [0.0, 0.0], [3.0, 0.0]]], "float32")
    outs = []
    for lib in (kerax, keras):
        inp = lib.Input((3, 2))
        mask = lib.layers.Masking(0.0).compute_mask(inp)
        outs.append(np.asarray(lib.Model(inp, lib.ops.cast(mask, "int32")).predict(
            x, verbose=0)))
    np.testing.assert_array_equal(outs[0], outs[1])
    np.testing.assert_array_equal(outs[0], [[1, 0, 1]])


def test_reversible_embedding_mask_on_symbolic_ids():
    # Keras' ReversibleEmbedding returns None here and sets the mask inside `call`;
    # kerax's mask comes from `compute_mask`, which must accept a symbolic input.
    ids = kerax.Input((None,), dtype="int32")
    mask = kerax.layers.ReversibleEmbedding(10, 3, mask_zero=True).compute_mask(ids)
    assert (tuple(mask.shape), str(mask.dtype)) == ((None, None), "bool")
