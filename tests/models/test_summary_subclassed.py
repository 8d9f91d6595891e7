"""`summary()` of a subclassed model shows its sub-layers' output shapes with the batch
Keras built them on: the first batch of `fit`/`predict`/`evaluate` or of a call, and
None after `build((None, ...))` (kerax builds on a probe batch of 1, which never shows)."""

import numpy as np
import pytest

import kerax


def _model(lib, own_build):
    class Net(lib.Model):
        def __init__(self):
            super().__init__(name="net")
            self.d1 = lib.layers.Dense(16, activation="relu", name="d1")
            self.d2 = lib.layers.Dense(4, name="d2")

        def call(self, x):
            return self.d2(self.d1(x))

    if own_build:
        def build(self, input_shape):
            self.d1.build(input_shape)
            self.d2.build(tuple(input_shape[:-1]) + (16,))
        Net.build = build
    return Net()


x, y = np.ones((5, 8), "float32"), np.ones((5, 4), "float32")
RUNS = {
    "call": lambda m: m(x[:3]),
    "fit": lambda m: (m.compile("adam", "mse"), m.fit(x, y, batch_size=2, verbose=0)),
    "fit_one_batch": lambda m: (m.compile("sgd", "mse"), m.fit(x, y, verbose=0)),
    "predict": lambda m: m.predict(x, batch_size=3, verbose=0),
    "build_own": lambda m: m.build((None, 8)),
}


def _text(lib, run):
    model = _model(lib, own_build=run == "build_own")
    RUNS[run](model)
    out = []
    model.summary(print_fn=out.append)
    return out[0]


@pytest.mark.parametrize("run", sorted(RUNS))
def test_subclassed_summary_shapes_as_keras(keras, monkeypatch, run):
    monkeypatch.setenv("COLUMNS", "80")
    ours, theirs = _text(kerax, run), _text(keras, run)
    assert ours == theirs
    assert "(1, 16)" not in ours


def test_build_with_unknown_batch_shows_none(monkeypatch):
    # Keras marks a subclassed model without `build()` built without building its
    # sub-layers ("?", "0 (unbuilt)"); kerax builds them, and shows the batch as None.
    monkeypatch.setenv("COLUMNS", "80")
    model = _model(kerax, own_build=False)
    model.build((None, 8))
    out = []
    model.summary(print_fn=out.append)
    assert "│ d1 (Dense)                      │ (None, 16)" in out[0]
    assert "(1, 16)" not in out[0] and "Total params: 212" in out[0]
