"""`None` dimensions stay unknown through every layer family, vs Keras 3: a model built
on `Input((None, ...))` runs on two different lengths / image sizes, with Keras' symbolic
shapes and Keras' values for the same weights."""

import warnings

import numpy as np
import pytest

import kerax

# name -> (layer factory over the library's `layers`, Input shape, two data shapes)
CASES = {
    "Conv1D": (lambda L: L.Conv1D(2, 3), (None, 3), [(5, 3), (7, 3)]),
    "Conv2D_strided": (lambda L: L.Conv2D(2, 3, strides=2), (None, None, 3),
                       [(5, 6, 3), (8, 7, 3)]),
    "Conv2DTranspose": (lambda L: L.Conv2DTranspose(2, 3, strides=2), (None, None, 1),
                        [(3, 4, 1), (5, 2, 1)]),
    "SeparableConv1D": (lambda L: L.SeparableConv1D(2, 3), (None, 3), [(5, 3), (7, 3)]),
    "MaxPooling2D": (lambda L: L.MaxPooling2D(), (None, None, 2), [(4, 6, 2), (8, 2, 2)]),
    "AveragePooling1D": (lambda L: L.AveragePooling1D(2), (None, 3), [(6, 3), (8, 3)]),
    "GlobalMaxPooling1D": (lambda L: L.GlobalMaxPooling1D(), (None, 3), [(6, 3), (8, 3)]),
    "SimpleRNN": (lambda L: L.SimpleRNN(2, return_sequences=True), (None, 3),
                  [(5, 3), (7, 3)]),
    "LSTM": (lambda L: L.LSTM(2), (None, 3), [(5, 3), (7, 3)]),
    "Bidirectional_GRU": (lambda L: L.Bidirectional(L.GRU(2, return_sequences=True)),
                          (None, 3), [(5, 3), (7, 3)]),
    "ConvLSTM1D": (lambda L: L.ConvLSTM1D(2, 3, padding="same", return_sequences=True),
                   (None, 6, 2), [(4, 6, 2), (3, 6, 2)]),
    "ConvLSTM2D": (lambda L: L.ConvLSTM2D(2, 3), (None, 5, 5, 1), [(4, 5, 5, 1), (2, 5, 5, 1)]),
    "TimeDistributed": (lambda L: L.TimeDistributed(L.Conv2D(2, 3)), (None, 5, 5, 1),
                        [(2, 5, 5, 1), (3, 5, 5, 1)]),
    "MultiHeadAttention": ("mha", (None, 4), [(5, 4), (7, 4)]),
    "LayerNormalization": (lambda L: L.LayerNormalization(), (None, 3), [(5, 3), (7, 3)]),
    "BatchNormalization": (lambda L: L.BatchNormalization(), (None, None, 3),
                           [(5, 5, 3), (7, 4, 3)]),
    "Reshape": (lambda L: L.Reshape((-1, 2)), (None, 4), [(5, 4), (7, 4)]),
    "Permute": (lambda L: L.Permute((2, 1)), (None, 3), [(5, 3), (7, 3)]),
    "Cropping1D": (lambda L: L.Cropping1D(1), (None, 3), [(5, 3), (7, 3)]),
    "Cropping2D": (lambda L: L.Cropping2D(1), (None, None, 3), [(5, 6, 3), (7, 4, 3)]),
    "Cropping3D": (lambda L: L.Cropping3D(1), (None, None, None, 1),
                   [(4, 4, 5, 1), (5, 3, 3, 1)]),
    "UpSampling1D": (lambda L: L.UpSampling1D(2), (None, 3), [(5, 3), (7, 3)]),
    "ZeroPadding2D": (lambda L: L.ZeroPadding2D(1), (None, None, 3), [(5, 6, 3), (7, 4, 3)]),
}


def _model(lib, case, kind):
    make, shape, _ = CASES[case]
    x = lib.Input(shape)
    if make == "mha":
        layer = lib.layers.MultiHeadAttention(2, 2)
        return lib.Model(x, layer(x, x))
    if kind == "sequential":
        return lib.Sequential([x, make(lib.layers)])
    return lib.Model(x, make(lib.layers)(x))


# Sequential builds its layers through its own path: a few families cover it.
SEQUENTIAL = ["Conv1D", "ConvLSTM1D", "Cropping1D", "LSTM", "BatchNormalization"]


@pytest.mark.parametrize("case,kind", [(c, "functional") for c in sorted(CASES)]
                         + [(c, "sequential") for c in SEQUENTIAL])
def test_unknown_dims_stay_unknown_like_keras(keras, case, kind):
    kmodel, model = _model(keras, case, kind), _model(kerax, case, kind)
    assert model.output_shape == kmodel.output_shape
    model.set_weights(kmodel.get_weights())
    rng = np.random.default_rng(0)
    for data in CASES[case][2]:
        x = rng.standard_normal((2,) + data).astype("float32")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = np.asarray(kmodel.predict(x, verbose=0))
        got = np.asarray(model.predict(x, verbose=0))
        assert got.shape == expected.shape
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(np.asarray(model(x)), np.asarray(kmodel(x)),
                                   rtol=1e-4, atol=1e-5)


def test_conv_lstm_built_eagerly_accepts_another_sequence_length(keras):
    """Keras checks each step's shape, never the sequence length (even after an eager build)."""
    rng = np.random.default_rng(1)
    klayer, layer = keras.layers.ConvLSTM1D(2, 3), kerax.layers.ConvLSTM1D(2, 3)
    first = rng.standard_normal((2, 4, 6, 2)).astype("float32")
    klayer(first)
    layer(first)
    layer.set_weights(klayer.get_weights())
    longer = rng.standard_normal((2, 7, 6, 2)).astype("float32")
    np.testing.assert_allclose(np.asarray(layer(longer)), np.asarray(klayer(longer)),
                               rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match=r"shape \(None, None, 6, 2\), received input of "
                                         r"shape \(2, 4, 5, 2\)"):
        layer(rng.standard_normal((2, 4, 5, 2)).astype("float32"))


def test_input_spec_keeps_symbolic_unknowns():
    x = kerax.Input((None, 6, 2))
    layer = kerax.layers.ConvLSTM1D(2, 3)
    layer(x)
    assert layer.input_spec.shape == (None, None, 6, 2)


def test_sequential_summary_shows_unknown_dims_as_none(keras):
    def rows(lib):
        model = lib.Sequential([lib.Input((None, 3)), lib.layers.Conv1D(2, 3, name="c"),
                                lib.layers.GlobalMaxPooling1D(name="p")])
        lines = []
        model.summary(print_fn=lambda line, **kw: lines.append(line))
        return [l for l in "\n".join(lines).splitlines() if "(None" in l]

    got, expected = rows(kerax), rows(keras)
    assert len(got) == len(expected) == 2
    assert "(None, None, 2)" in got[0] and "(None, 2)" in got[1]


def test_sequential_build_with_another_shape_than_its_input_is_an_error(keras):
    for lib in (keras, kerax):
        model = lib.Sequential([lib.Input((5,)), lib.layers.Dense(2)], name="fixed")
        with pytest.raises(ValueError, match=r"Sequential model 'fixed' has already been "
                                             r"configured to use input shape \(None, 5\)"):
            model.build((None, 6))
