"""Mask propagation in Sequential and functional models, and masked losses, vs Keras 3."""

import numpy as np
import pytest

import kerax

IDS = np.array([[3, 1, 4, 0, 0], [2, 0, 0, 0, 0], [1, 5, 9, 2, 6], [7, 3, 0, 0, 0]], "int32")
POOLERS = ["GlobalAveragePooling1D"] + (["LSTM"] if hasattr(kerax.layers, "LSTM") else [])


def _pooler(lib, kind):
    if kind == "LSTM":
        return lib.layers.LSTM(3, name="pool")
    return lib.layers.GlobalAveragePooling1D(name="pool")


def _models(lib, kind):
    """Embedding(mask_zero) -> pooler -> Dense, as a Sequential and as a functional model."""
    seq = lib.Sequential([lib.Input((5,), dtype="int32"),
                          lib.layers.Embedding(10, 4, mask_zero=True, name="emb"),
                          _pooler(lib, kind), lib.layers.Dense(2, name="out")])
    inp = lib.Input((5,), dtype="int32")
    h = lib.layers.Embedding(10, 4, mask_zero=True, name="emb")(inp)
    func = lib.Model(inp, lib.layers.Dense(2, name="out")(_pooler(lib, kind)(h)))
    return seq, func


@pytest.mark.parametrize("kind", POOLERS)
def test_padded_sequences_match_keras(keras, kind):
    for km, m in zip(_models(keras, kind), _models(kerax, kind)):
        m.set_weights(km.get_weights())
        expected = np.asarray(km(IDS))
        np.testing.assert_allclose(np.asarray(m(IDS)), expected, rtol=1e-5, atol=1e-6)
        # The padding really matters: without the mask the outputs differ.
        unmasked = np.asarray(m.apply(m.variables, np.where(IDS == 0, 1, IDS))[0])
        assert not np.allclose(unmasked[1], expected[1], atol=1e-4)


def _sequence_model(lib):
    return lib.Sequential([lib.Input((5,), dtype="int32"),
                           lib.layers.Embedding(10, 3, mask_zero=True, name="emb"),
                           lib.layers.Dense(1, name="out")])


def test_output_mask_weights_loss_and_metrics_like_keras(keras):
    y = np.random.default_rng(0).normal(size=(4, 5, 1)).astype("float32")
    km, m = _sequence_model(keras), _sequence_model(kerax)
    m.set_weights(km.get_weights())
    for model in (km, m):
        model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    expected = km.evaluate(IDS, y, batch_size=3, verbose=0, return_dict=True)
    got = m.evaluate(IDS, y, batch_size=3, verbose=0, return_dict=True)  # padded last batch
    for name in ("loss", "mae"):
        np.testing.assert_allclose(got[name], expected[name], rtol=1e-5)
    kh = km.fit(IDS, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    h = m.fit(IDS, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    np.testing.assert_allclose(h.history["loss"], kh.history["loss"], rtol=1e-5)
    for a, b in zip(m.get_weights(), km.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_masking_layer_feeds_pooling():
    x = np.ones((2, 3, 2), "float32")
    x[0, 2] = 0.0
    x[0, 1] = 3.0
    model = kerax.Sequential([kerax.Input((3, 2)), kerax.layers.Masking(0.0),
                              kerax.layers.GlobalAveragePooling1D()])
    np.testing.assert_allclose(np.asarray(model(x))[0], [2.0, 2.0])


def test_layer_without_masking_support_drops_the_mask():
    inp = kerax.Input((5,), dtype="int32")
    h = kerax.layers.Embedding(10, 4, mask_zero=True)(inp)
    h = kerax.layers.Flatten()(h)  # supports_masking=False: the mask stops here
    h = kerax.layers.Reshape((5, 4))(h)
    model = kerax.Model(inp, kerax.layers.GlobalAveragePooling1D()(h))
    emb = model.layers[1].get_weights()[0]
    np.testing.assert_allclose(np.asarray(model(IDS[1:2]))[0], emb[IDS[1]].mean(0), rtol=1e-6)
