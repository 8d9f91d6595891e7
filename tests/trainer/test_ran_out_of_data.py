"""`steps_per_epoch` beyond the data: as in Keras 3, an epoch that reaches the end of the
data ends there with "Your input ran out of data" and the next epoch starts a new pass
(arrays and PyDatasets); nothing wraps around silently."""

import warnings

import numpy as np
import pytest

import kerax

X = np.random.default_rng(0).normal(size=(20, 3)).astype("float32")
Y = np.random.default_rng(1).normal(size=(20, 1)).astype("float32")


def _dataset(lib):
    class DS(lib.utils.PyDataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return X[4 * i:4 * i + 4], Y[4 * i:4 * i + 4]

    return DS()


def _fit(lib, data, steps_per_epoch, epochs, weights=None):
    inputs = lib.Input((3,))
    model = lib.Model(inputs, lib.layers.Dense(1)(inputs))
    model.compile(optimizer="sgd", loss="mse")
    if weights is not None:
        model.set_weights(weights)
    batches = []

    class Record(lib.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            batches.append(0)

        def on_train_batch_end(self, batch, logs=None):
            batches[-1] = batch + 1

    args = (X, Y) if data == "arrays" else (_dataset(lib),)
    kwargs = {"batch_size": 4} if data == "arrays" else {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = model.fit(*args, steps_per_epoch=steps_per_epoch, epochs=epochs,
                            shuffle=False, verbose=0, callbacks=[Record()], **kwargs)
    ran_out = sum("Your input ran out of data" in str(w.message) for w in caught)
    return model, history.history, batches, ran_out


@pytest.mark.parametrize("data", ["arrays", "py_dataset"])
@pytest.mark.parametrize("steps_per_epoch,epochs", [(2, 4), (3, 3), (7, 2), (5, 2)])
def test_steps_per_epoch_past_the_data_matches_keras(keras, data, steps_per_epoch, epochs):
    weights = _fit(kerax, "arrays", 1, 1)[0].get_weights()
    km, kh, kbatches, kwarn = _fit(keras, data, steps_per_epoch, epochs, weights)
    m, h, batches, warned = _fit(kerax, data, steps_per_epoch, epochs, weights)
    assert batches == kbatches
    assert warned == kwarn
    assert int(m.optimizer.iterations) == int(km.optimizer.iterations)
    np.testing.assert_allclose(h["loss"], kh["loss"], rtol=1e-5)
    for a, b in zip(m.get_weights(), km.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_evaluate_steps_past_the_data_stops_at_its_end(keras):
    out = []
    for lib in (keras, kerax):
        inputs = lib.Input((3,))
        model = lib.Model(inputs, lib.layers.Dense(1, kernel_initializer="ones")(inputs))
        model.compile(optimizer="sgd", loss="mse")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out.append(model.evaluate(X, Y, batch_size=4, steps=7, verbose=0))
        assert any("ran out of data" in str(w.message) for w in caught)
    np.testing.assert_allclose(out[1], out[0], rtol=1e-6)


def _generator():
    for i in range(0, 20, 4):
        yield X[i:i + 4], Y[i:i + 4]


@pytest.mark.parametrize("steps_per_epoch,epochs", [(None, 3), (3, 3), (7, 2)])
def test_a_generator_that_runs_out_continues_as_in_keras(keras, steps_per_epoch, epochs):
    """A Python generator cannot rewind: Keras warns "ran out of data" when it ends (at
    every end, `steps_per_epoch` or not), goes on with the next epoch, and a new pass
    replays the 2 batches it read to build the model. Same batches per epoch, warnings,
    iterations, history and weights here."""
    weights = _fit(kerax, "arrays", 1, 1)[0].get_weights()
    out = []
    for lib in (keras, kerax):
        inputs = lib.Input((3,))
        model = lib.Model(inputs, lib.layers.Dense(1)(inputs))
        model.compile(optimizer="sgd", loss="mse")
        model.set_weights(weights)
        batches = []

        class Record(lib.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                batches.append(0)

            def on_train_batch_end(self, batch, logs=None):
                batches[-1] = batch + 1

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            history = model.fit(_generator(), steps_per_epoch=steps_per_epoch, epochs=epochs,
                                verbose=0, callbacks=[Record()])
        warned = sum("Your input ran out of data" in str(w.message) for w in caught)
        out.append((batches, warned, int(model.optimizer.iterations), history.history,
                    model.get_weights()))
    (kb, kw, ki, kh, kweights), (b, w, i, h, weights_) = out
    assert (b, w, i) == (kb, kw, ki)
    np.testing.assert_allclose(h["loss"], kh["loss"], rtol=1e-5)
    for a, c in zip(weights_, kweights):
        np.testing.assert_allclose(a, c, rtol=1e-5, atol=1e-6)


def test_an_empty_generator_fails_as_in_keras(keras):
    for lib in (keras, kerax):
        inputs = lib.Input((3,))
        model = lib.Model(inputs, lib.layers.Dense(1)(inputs))
        model.compile(optimizer="sgd", loss="mse")
        with pytest.raises(ValueError, match="generator must yield at least one batch"):
            model.fit((b for b in []), verbose=0)
