"""`predict_on_batch`: the first call per shape goes through `predict`'s checks; later calls
are one jitted predict step, with `predict`'s outputs and Keras' state updates."""

import numpy as np
import pytest

import kerax
from kerax.errors import LayerShapeError


def _counter(lib):
    class Count(lib.layers.Layer):
        def build(self, input_shape):
            self.calls = self.add_weight(shape=(), initializer="zeros", trainable=False,
                                         name="calls")

        def call(self, x):
            self.calls.assign(self.calls + 1.0)
            return x * 2.0

    return Count()


def test_repeated_calls_match_predict_and_keep_keras_state_updates(keras):
    x = np.random.default_rng(0).normal(size=(3, 4)).astype("float32")
    counts = []
    for lib in (kerax, keras):
        lib.utils.set_random_seed(0)
        layer = _counter(lib)
        inputs = lib.Input((4,))
        model = lib.Model(inputs, lib.layers.Dense(2)(layer(inputs)))
        outs = [model.predict_on_batch(x) for _ in range(3)]
        counts.append(float(np.asarray(layer.calls)))
        for out in outs:
            np.testing.assert_allclose(out, model.predict(x, verbose=0), rtol=1e-6, atol=1e-6)
            assert isinstance(out, np.ndarray)
    assert counts[0] == counts[1] == 3.0


def test_a_wrong_shape_after_a_good_batch_still_gets_predicts_error():
    model = kerax.Sequential([kerax.Input((4,)), kerax.layers.Dense(2)])
    model.predict_on_batch(np.ones((2, 4), "float32"))
    model.predict_on_batch(np.ones((2, 4), "float32"))
    with pytest.raises((ValueError, LayerShapeError), match=r"\(2, 5\)"):
        model.predict_on_batch(np.ones((2, 5), "float32"))


def test_new_weights_and_a_changed_model_are_seen():
    model = kerax.Sequential([kerax.Input((3,)), kerax.layers.Dense(2)])
    x = np.ones((1, 3), "float32")
    model.predict_on_batch(x)
    model.predict_on_batch(x)
    model.set_weights([np.ones((3, 2), "float32"), np.zeros(2, "float32")])
    np.testing.assert_allclose(model.predict_on_batch(x), [[3.0, 3.0]])
    model.add(kerax.layers.Dense(1, kernel_initializer="ones"))
    np.testing.assert_allclose(model.predict_on_batch(x), [[6.0]])
    np.testing.assert_allclose(model.predict_on_batch(x), [[6.0]])
