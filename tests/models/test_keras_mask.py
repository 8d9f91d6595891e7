"""Keras' `_keras_mask` and mask passing, vs Keras 3: the idioms of the "Understanding
masking & padding" guide, eagerly and while a functional graph is built."""

import numpy as np
import pytest

import kerax

RAW = np.array([[711, 632, 71, 0, 0, 0], [73, 8, 3215, 55, 927, 0],
                [83, 91, 1, 645, 1253, 927]], "int32")
IDS = np.array([[3, 1, 4, 0, 0], [2, 7, 1, 8, 2]], "int32")


def _layers(lib):
    ops = lib.ops

    class MyActivation(lib.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.supports_masking = True

        def call(self, inputs):
            return lib.activations.relu(inputs)

    class TemporalSoftmax(lib.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.supports_masking = True

        def call(self, inputs, mask=None):
            assert mask is not None  # the guide's layer: Keras always passes the mask
            float_mask = ops.expand_dims(ops.cast(mask, "float32"), -1)
            inputs_exp = ops.exp(inputs) * float_mask
            return inputs_exp / ops.sum(inputs_exp * float_mask, axis=-1, keepdims=True)

    class TemporalSplit(lib.layers.Layer):
        def call(self, inputs):
            return ops.split(inputs, 2, axis=1)

        def compute_mask(self, inputs, mask=None):
            return None if mask is None else ops.split(mask, 2, axis=1)

    return MyActivation, TemporalSoftmax, TemporalSplit


def _guide_model(lib):
    MyActivation, TemporalSoftmax, _ = _layers(lib)
    inputs = lib.Input(shape=(None,), dtype="int32")
    x = lib.layers.Embedding(input_dim=10, output_dim=4, mask_zero=True, name="e")(inputs)
    x = MyActivation()(x)
    x = lib.layers.Dense(1, name="d")(x)
    return lib.Model(inputs, TemporalSoftmax()(x)), x


def test_eager_outputs_carry_keras_mask(keras):
    for lib in (keras, kerax):
        out = lib.layers.Embedding(input_dim=5000, output_dim=4, mask_zero=True)(RAW)
        np.testing.assert_array_equal(np.asarray(out._keras_mask), RAW != 0)
        x = np.ones((1, 3, 2), "float32") * np.array([1, 0, 1], "float32")[None, :, None]
        np.testing.assert_array_equal(np.asarray(lib.layers.Masking()(x)._keras_mask),
                                      [[True, False, True]])
        _, _, TemporalSplit = _layers(lib)
        emb = lib.layers.Embedding(input_dim=5000, output_dim=4, mask_zero=True)
        first, second = TemporalSplit()(emb(RAW))
        np.testing.assert_array_equal(np.asarray(first._keras_mask), (RAW != 0)[:, :3])
        np.testing.assert_array_equal(np.asarray(second._keras_mask), (RAW != 0)[:, 3:])


def test_symbolic_outputs_carry_keras_mask_and_layers_receive_it(keras):
    (kmodel, kx), (model, x) = _guide_model(keras), _guide_model(kerax)
    assert x._keras_mask.shape == kx._keras_mask.shape == (None, None)
    assert str(x._keras_mask.dtype) == str(kx._keras_mask.dtype) == "bool"
    model.set_weights(kmodel.get_weights())
    np.testing.assert_allclose(np.asarray(model(IDS)), np.asarray(kmodel(IDS)), rtol=1e-5)
    np.testing.assert_allclose(model.predict(IDS, verbose=0), kmodel.predict(IDS, verbose=0),
                               rtol=1e-5)
    np.testing.assert_array_equal(np.asarray(model(IDS)._keras_mask),
                                  np.asarray(kmodel(IDS)._keras_mask))


def test_custom_compute_mask_means_masking_support_as_in_keras(keras):
    def make(lib):
        class CustomEmbedding(lib.layers.Layer):
            def build(self, input_shape):
                self.embeddings = self.add_weight(shape=(10, 3), initializer="ones")

            def call(self, inputs):
                return lib.ops.take(self.embeddings, lib.ops.cast(inputs, "int32"), axis=0)

            def compute_mask(self, inputs, mask=None):
                return lib.ops.not_equal(inputs, 0)

        return CustomEmbedding()

    for lib in (keras, kerax):
        layer = make(lib)
        assert layer.supports_masking
        np.testing.assert_array_equal(np.asarray(layer(IDS)._keras_mask), IDS != 0)
        assert not lib.layers.Flatten().supports_masking


@pytest.mark.parametrize("kind", ["functional", "sequential"])
def test_mask_reaches_lstm_through_a_masking_aware_custom_layer(keras, kind):
    def make(lib):
        MyActivation, _, _ = _layers(lib)
        layers = [lib.layers.Embedding(10, 4, mask_zero=True, name="e"), MyActivation(),
                  lib.layers.LSTM(3, name="lstm")]
        if kind == "sequential":
            return lib.Sequential([lib.Input((5,), dtype="int32")] + layers)
        x = y = lib.Input((5,), dtype="int32")
        for layer in layers:
            y = layer(y)
        return lib.Model(x, y)

    kmodel, model = make(keras), make(kerax)
    model.set_weights(kmodel.get_weights())
    np.testing.assert_allclose(np.asarray(model(IDS)), np.asarray(kmodel(IDS)), rtol=1e-5,
                               atol=1e-6)
    # (Keras' `lstm.input` also lists the propagated mask; the mask is on the previous
    # layer's output in both.)
    act, kact = model.layers[-2], kmodel.layers[-2]
    assert act.output._keras_mask.shape == kact.output._keras_mask.shape == (None, 5)


def test_explicit_mask_argument_wins_over_the_propagated_one(keras):
    def make(lib):
        x = lib.Input((5,), dtype="int32")
        m = lib.Input((5,), dtype="bool")
        h = lib.layers.Embedding(10, 4, mask_zero=True, name="e")(x)
        return lib.Model([x, m], lib.layers.LSTM(3, name="lstm")(h, mask=m))

    kmodel, model = make(keras), make(kerax)
    model.set_weights(kmodel.get_weights())
    mask = np.ones((2, 5), bool)
    np.testing.assert_allclose(np.asarray(model([IDS, mask])),
                               np.asarray(kmodel([IDS, mask])), rtol=1e-5, atol=1e-6)
