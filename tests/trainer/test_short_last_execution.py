"""An epoch whose last execution runs fewer than `steps_per_execution` steps: batch
hooks get Keras 3's index (`begin + steps_per_execution - 1`), while the progress bar
and `fit_run.steps_done` count the steps that ran."""

import numpy as np
import pytest

import kerax

X = np.random.default_rng(0).normal(size=(6, 4)).astype("float32")
Y = np.zeros((6, 1), "float32")


def _model(lib, k=2):
    model = lib.Sequential([lib.Input((4,)), lib.layers.Dense(1, kernel_initializer="ones")])
    model.compile("sgd", "mse", steps_per_execution=k)
    return model


def _generator():
    for i in range(3):
        yield X[2 * i:2 * i + 2], Y[2 * i:2 * i + 2]


def _record(lib, seen):
    class Record(lib.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(("train", batch))

        def on_test_batch_end(self, batch, logs=None):
            seen.append(("test", batch))

        def on_predict_batch_end(self, batch, logs=None):
            seen.append(("predict", batch))

    return Record()


@pytest.mark.parametrize("data", ["arrays", "generator"])
def test_short_last_execution_index_matches_keras(keras, data):
    def run(lib):
        seen = []
        model = _model(lib)
        args = (X, Y) if data == "arrays" else (_generator(),)
        model.fit(*args, batch_size=2, epochs=1, verbose=0, shuffle=False,
                  callbacks=[_record(lib, seen)])
        args = (X, Y) if data == "arrays" else (_generator(),)
        model.evaluate(*args, batch_size=2, verbose=0, callbacks=[_record(lib, seen)])
        model.predict(X if data == "arrays" else ((x,) for x, _ in _generator()),
                      batch_size=2, verbose=0, callbacks=[_record(lib, seen)])
        return seen

    seen = run(kerax)
    assert seen == run(keras)
    assert seen == [("train", 1), ("train", 3), ("test", 1), ("test", 3), ("predict", 1),
                    ("predict", 3)]


@pytest.mark.parametrize("data", ["arrays", "generator"])
def test_progbar_counts_the_steps_that_ran(capsys, data):
    model = _model(kerax)
    args = (X, Y) if data == "arrays" else (_generator(),)
    model.fit(*args, batch_size=2, epochs=1, verbose=1, shuffle=False)
    out = capsys.readouterr().out  # a generator's first epoch: "3/Unknown"
    assert ("3/3" if data == "arrays" else "3/Unknown") in out and "4/" not in out
    assert model.fit_run.steps_done == 3
    model.evaluate(X, Y, batch_size=2, verbose=1)
    model.predict(X, batch_size=2, verbose=1)
    out = capsys.readouterr().out
    assert out.count("3/3") == 2 and "4/" not in out
