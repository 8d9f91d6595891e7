"""With `steps_per_execution="auto"`, a callback's batch hooks see what they see in Keras
3 (one step per execution): once per batch, in order, with that batch's logs, and what
they do (stop training, a new learning rate) applies from the next batch on."""

import numpy as np
import pytest

import kerax

R = np.random.default_rng(0)
X = R.normal(size=(40, 3)).astype("float32")
Y = R.normal(size=(40, 1)).astype("float32")


def _model(lib, weights=None):
    inputs = lib.Input((3,))
    model = lib.Model(inputs, lib.layers.Dense(1)(inputs))
    model.compile(optimizer=lib.optimizers.SGD(0.05), loss="mse", metrics=["mae"])
    if weights is not None:
        model.set_weights(weights)
    return model


def _recorder(lib, stop_at=None, lr_at=None):
    class Record(lib.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.seen = []

        def _log(self, hook, batch, logs):
            logs = dict(logs or {})
            if "outputs" in logs:
                logs["outputs"] = np.asarray(logs["outputs"]).shape
            self.seen.append((hook, batch, {k: (v if isinstance(v, tuple) else float(v))
                                            for k, v in logs.items()}))

        def on_train_batch_begin(self, batch, logs=None):
            self._log("train_begin", batch, None)
            if lr_at is not None and batch == lr_at:
                self.model.optimizer.learning_rate = 0.5

        def on_train_batch_end(self, batch, logs=None):
            self._log("train_end", batch, logs)
            if stop_at is not None and batch == stop_at:
                self.model.stop_training = True

        def on_test_batch_end(self, batch, logs=None):
            self._log("test_end", batch, logs)

        def on_predict_batch_end(self, batch, logs=None):
            self._log("predict_end", batch, logs)

    return Record()


def _compare(kseen, seen):
    assert [s[:2] for s in seen] == [s[:2] for s in kseen]
    for (_, _, klogs), (_, _, logs) in zip(kseen, seen):
        assert sorted(logs) == sorted(klogs)
        for key, value in klogs.items():
            if isinstance(value, tuple):
                assert logs[key] == value
            else:
                np.testing.assert_allclose(logs[key], value, rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("data", ["arrays", "py_dataset"])
@pytest.mark.parametrize("action", [{}, {"stop_at": 3}, {"lr_at": 2}])
def test_batch_hooks_match_keras(keras, data, action):
    weights = _model(kerax).get_weights()
    runs = []
    for lib in (keras, kerax):
        model, record = _model(lib, weights), _recorder(lib, **action)
        if data == "arrays":
            args, kwargs = (X, Y), {"batch_size": 8}
        else:
            class DS(lib.utils.PyDataset):
                def __len__(self):
                    return 5

                def __getitem__(self, i):
                    return X[8 * i:8 * i + 8], Y[8 * i:8 * i + 8]

            args, kwargs = (DS(),), {}
        model.fit(*args, epochs=2, shuffle=False, verbose=0, callbacks=[record],
                  validation_data=(X[:16], Y[:16]), validation_batch_size=8, **kwargs)
        model.evaluate(X[:24], Y[:24], batch_size=8, verbose=0, callbacks=[record])
        model.predict(X[:20], batch_size=8, verbose=0, callbacks=[record])
        runs.append((record.seen, model.get_weights(), int(model.optimizer.iterations)))
    (kseen, kweights, kiters), (seen, weights_after, iters) = runs
    _compare(kseen, seen)
    assert iters == kiters
    for a, b in zip(weights_after, kweights):
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=1e-6)


def test_an_exception_in_a_batch_hook_stops_before_the_next_batch():
    model = _model(kerax)

    class Boom(kerax.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 1:
                raise RuntimeError("stop here")

    with pytest.raises(RuntimeError, match="stop here"):
        model.fit(X, Y, batch_size=4, epochs=1, verbose=0, callbacks=[Boom()])
    assert int(model.optimizer.iterations) == 2


def test_without_batch_hooks_auto_still_fuses_steps():
    model = _model(kerax)
    model.fit(X, Y, batch_size=4, epochs=1, verbose=0,
              callbacks=[kerax.callbacks.EarlyStopping(monitor="loss")])
    assert model._fit_steps_per_execution > 1
