"""Subclassed models and Keras-style custom layers: params by attribute, Keras weight order."""

import numpy as np
import pytest

import kerax


def _classes(keras):
    class Linear(keras.layers.Layer):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = units

        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], self.units),
                                     initializer="random_normal")
            self.b = self.add_weight(shape=(self.units,), initializer="zeros")

        def call(self, x):
            return x @ self.w + self.b

    class Residual(keras.Model):
        def __init__(self, units):
            super().__init__()
            self.dense = keras.layers.Dense(units)
            self.norm = keras.layers.LayerNormalization()

        def call(self, x, training=False):
            return self.norm(x + self.dense(x))

    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.blocks = [Residual(4), Residual(4)]
            self.head = Linear(2)

        def call(self, x, training=False):
            for block in self.blocks:
                x = block(x, training=training)
            return self.head(x)

    return Net


@pytest.fixture(scope="module")
def x():
    return np.random.default_rng(0).standard_normal((3, 4)).astype("float32")


def test_subclassed_model_matches_keras_weights_and_outputs(keras, x):
    model, kmodel = _classes(kerax)(), _classes(keras)()
    model(x)
    kmodel(x)
    assert [w.shape for w in model.get_weights()] == [tuple(w.shape) for w in kmodel.get_weights()]
    model.set_weights(kmodel.get_weights())
    np.testing.assert_allclose(model(x), kmodel(x), rtol=1e-5, atol=1e-5)
    assert sorted(model.variables["params"]) == ["blocks_0", "blocks_1", "head"]
    assert model.count_params() == kmodel.count_params()
    assert len(model.trainable_weights) == len(kmodel.trainable_weights)


def test_subclassed_model_trains(x):
    model = _classes(kerax)()
    model.compile("adam", "mse")
    history = model.fit(x, np.zeros((3, 2)), epochs=3, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_frozen_sublayer_gets_no_update(x):
    model = _classes(kerax)()
    model(x)
    model.blocks[0].trainable = False
    frozen = [w.numpy().copy() for w in model.blocks[0].weights]
    assert not any(w.trainable for w in model.weights[:len(frozen)])
    model.compile("sgd", "mse")
    model.fit(x, np.ones((3, 2)), epochs=1, verbose=0)
    for before, after in zip(frozen, model.get_weights()[:len(frozen)]):
        np.testing.assert_array_equal(before, after)


def test_sublayer_outside_attributes_error(x):
    class Bad(kerax.Model):
        def call(self, x):
            return kerax.layers.Dense(2)(x)

    with pytest.raises(ValueError, match="is not an attribute of"):
        Bad()(x)
