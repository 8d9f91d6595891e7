"""`predict` and `evaluate` keep the state a layer assigns in `call`, as Keras 3 does
(its JAX trainer writes the non-trainable variables back after both), for arrays and
streams, uneven last batches included."""

import numpy as np
import pytest

import kerax
from tests.trainer.test_step_kinds import _Batches

X = np.random.default_rng(0).normal(size=(20, 3)).astype("float32")
Y = np.random.default_rng(1).normal(size=(20, 1)).astype("float32")


def _predict_step(self, state, data):
    tv, ntv = state
    y, ntv = self.stateless_call(tv, ntv, data)
    return y, ntv


def _model(lib, custom_predict=False):
    class Counter(lib.layers.Layer):
        def build(self, shape):
            self.count = self.add_weight(shape=(), initializer="zeros", trainable=False,
                                         name="count")

        def call(self, x):
            self.count.assign(self.count + 1.0)
            return x

    inputs = lib.Input((3,))
    counter = Counter()
    cls = (type("Stepped", (lib.Model,), {"predict_step": _predict_step})
           if custom_predict else lib.Model)
    model = cls(inputs, lib.layers.Dense(1)(counter(inputs)))
    model.compile(optimizer="sgd", loss="mse")
    return model, counter


def _count(counter):
    return float(np.asarray(counter.count.value if hasattr(counter.count, "value")
                            else counter.count))


@pytest.mark.parametrize("data", ["arrays", "py_dataset"])
def test_predict_and_evaluate_keep_call_state_like_keras(keras, data):
    counts = {}
    for lib in (keras, kerax):
        model, counter = _model(lib)
        if data == "arrays":
            model.predict(X, batch_size=6, verbose=0)
            after_predict = _count(counter)
            model.evaluate(X, Y, batch_size=6, verbose=0)
        else:
            model.predict(_Batches(lib, X, Y, batch_size=6), verbose=0)
            after_predict = _count(counter)
            model.evaluate(_Batches(lib, X, Y, batch_size=6), verbose=0)
        counts[lib.__name__] = (after_predict, _count(counter))
    assert counts["kerax"] == counts["keras"] == (4.0, 8.0)


def test_keras_predict_step_state_is_kept(keras):
    """A Keras-style `predict_step` returns `(outputs, non_trainable_variables)`: the
    returned variables are the model's afterwards, as in Keras."""
    counts = []
    for lib in (keras, kerax):
        model, counter = _model(lib, custom_predict=True)
        model.predict(X, batch_size=5, verbose=0)
        counts.append(_count(counter))
    assert counts[0] == counts[1] == 4.0
