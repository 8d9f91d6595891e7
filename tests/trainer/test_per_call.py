"""A repeated `fit(epochs=1)` / `evaluate` / `predict` / `train_on_batch` on the same
shapes traces and compiles nothing (their fixed per-call cost; see `bench/per_call.py`)."""

import numpy as np

import kerax


class _CountingIdentity(kerax.layers.Layer):
    """Counts how often its `call` runs: once per trace (eval_shape, jit), never in XLA."""

    calls = 0

    def call(self, x):
        type(self).calls += 1
        return x


def test_repeated_calls_trace_and_compile_nothing(rng):
    x = rng.normal(size=(20, 3)).astype("float32")
    y = rng.integers(0, 2, size=(20, 1)).astype("float32")
    model = kerax.Sequential([kerax.Input((3,)), _CountingIdentity(),
                              kerax.layers.Dense(1, activation="sigmoid")])
    model.compile("sgd", "binary_crossentropy", metrics=["accuracy"])

    def calls():
        model.fit(x, y, batch_size=8, epochs=1, verbose=0)
        model.evaluate(x, y, batch_size=8, verbose=0)
        model.predict(x, batch_size=8, verbose=0)
        model.train_on_batch(x[:8], y[:8])

    calls()
    traced, compiled = _CountingIdentity.calls, dict(model.compile_counts)
    assert traced > 0
    for _ in range(3):
        calls()
    assert _CountingIdentity.calls == traced
    assert model.compile_counts == compiled
