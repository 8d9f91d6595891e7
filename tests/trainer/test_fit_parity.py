"""End to end: the same model, weights and data give Keras 3's per-epoch numbers."""

import logging

import numpy as np
import pytest
from sklearn.datasets import load_digits

import kerax


@pytest.fixture(scope="module")
def digits():
    x, y = load_digits(return_X_y=True)
    return (x / 16.0).astype("float32")[:900], y[:900].astype("int32")


def _pair(keras, optimizer):
    km = keras.Sequential([keras.Input((64,)), keras.layers.Dense(32, activation="relu"),
                           keras.layers.Dense(10, activation="softmax")])
    xm = kerax.Sequential([kerax.Input((64,)), kerax.layers.Dense(32, activation="relu"),
                           kerax.layers.Dense(10, activation="softmax")])
    xm.set_weights(km.get_weights())
    km.compile(optimizer=getattr(keras.optimizers, optimizer)(learning_rate=0.01),
               loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    xm.compile(optimizer=getattr(kerax.optimizers, optimizer)(learning_rate=0.01),
               loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return km, xm


@pytest.mark.parametrize("optimizer", ["Adam", "SGD"])
def test_fit_matches_keras_epoch_for_epoch(keras, digits, optimizer):
    x, y = digits
    km, xm = _pair(keras, optimizer)
    # 900 samples, batch 64: the last batch (4 rows) is padded and masked in kerax.
    kh = km.fit(x, y, epochs=3, batch_size=64, shuffle=False, verbose=0, validation_split=0.1)
    xh = xm.fit(x, y, epochs=3, batch_size=64, shuffle=False, verbose=0, validation_split=0.1)
    assert sorted(xh.history) == sorted(kh.history)
    for key in kh.history:
        np.testing.assert_allclose(xh.history[key], kh.history[key], rtol=1e-4, atol=1e-4)
    for a, b in zip(xm.get_weights(), km.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(xm.evaluate(x, y, verbose=0), km.evaluate(x, y, verbose=0),
                               rtol=1e-4)
    np.testing.assert_allclose(xm.predict(x, verbose=0), km.predict(x, verbose=0),
                               rtol=1e-4, atol=1e-6)


def test_second_epoch_compiles_nothing(digits):
    x, y = digits
    model = kerax.Sequential([kerax.Input((64,)), kerax.layers.Dense(16, activation="relu"),
                              kerax.layers.Dense(10)])
    model.compile("adam", kerax.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"], steps_per_execution=4)
    records = []

    class Capture(logging.Handler):
        def emit(self, record):
            records.append(record.getMessage())

    class Mark(kerax.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            records.append(f"--epoch {epoch}")

    handler = Capture()
    logging.getLogger("jax").addHandler(handler)
    import jax

    jax.config.update("jax_log_compiles", True)
    try:
        # 900 rows / batch 50 = 18 steps: executions of 4 steps plus a remainder of 2.
        model.fit(x, y, batch_size=50, epochs=3, verbose=0, validation_split=0.1,
                  callbacks=[Mark()])
    finally:
        jax.config.update("jax_log_compiles", False)
        logging.getLogger("jax").removeHandler(handler)
    after = records[records.index("--epoch 1"):]
    compiles = [r for r in after if r.startswith("Compiling") or "Finished XLA compilation" in r]
    assert compiles == [], compiles
    assert any(r.startswith("Compiling") for r in records[:records.index("--epoch 1")])
