"""Careless inputs to `fit`/`evaluate`/`predict` (issue 23, "Inputs"): each either does
what Keras 3 does (checked on Keras 3 here) or fails before training with an error that
names what is missing and the fix."""

import sys
import types
import warnings

import numpy as np
import pytest

import kerax

X = np.random.default_rng(0).random((8, 3)).astype("float32")
Y = np.array([0, 1] * 4)


def _classifier(lib):
    model = lib.Sequential([lib.Input((3,)), lib.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    return model


def _two_inputs(lib):
    a, b = lib.Input((3,), name="a"), lib.Input((2,), name="b")
    out = lib.layers.Dense(2, activation="softmax")(lib.layers.Concatenate()([a, b]))
    model = lib.Model({"a": a, "b": b}, out)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    return model


def _caught(fn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = fn()
    return out, [str(w.message) for w in caught]


# --- pandas (duck-typed: pandas is no dependency, and may not be installed) -------------

class _Frame:
    """The parts of a pandas DataFrame/Series that `fit` meets: shape, iteration over
    columns (which made it look like a dataset) and `__array__`."""

    def __init__(self, values):
        self.values = np.asarray(values)
        self.shape = self.values.shape

    def __array__(self, dtype=None, copy=None):
        return self.values if dtype is None else self.values.astype(dtype)

    def __iter__(self):
        return iter(range(self.shape[-1]))

    def __len__(self):
        return self.shape[0]


@pytest.fixture
def fake_pandas(monkeypatch):
    """A stand-in `pandas` module in `sys.modules` (kerax only looks it up there)."""
    if "pandas" in sys.modules:
        pd = sys.modules["pandas"]
        return pd.DataFrame, pd.Series
    frame = type("DataFrame", (_Frame,), {})
    series = type("Series", (_Frame,), {"dtype": property(lambda self: self.values.dtype)})
    monkeypatch.setitem(sys.modules, "pandas",
                        types.SimpleNamespace(DataFrame=frame, Series=series))
    return frame, series


def test_fit_on_a_dataframe_and_series_trains_as_on_their_arrays(fake_pandas):
    frame, series = fake_pandas
    ref, model = _classifier(kerax), _classifier(kerax)
    model.set_weights(ref.get_weights())
    ref.fit(X, Y, batch_size=4, epochs=2, shuffle=False, verbose=0,
            validation_data=(X, Y))
    hist = model.fit(frame(X), series(Y), batch_size=4, epochs=2, shuffle=False, verbose=0,
                     validation_data=(frame(X), series(Y)))
    for a, b in zip(ref.get_weights(), model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    assert sorted(hist.history) == ["loss", "val_loss"]
    np.testing.assert_allclose(model.evaluate(frame(X), series(Y), verbose=0),
                               ref.evaluate(X, Y, verbose=0), rtol=1e-6)
    np.testing.assert_allclose(model.predict(frame(X), verbose=0), ref.predict(X, verbose=0),
                               rtol=1e-6)


def test_a_dict_of_columns_feeds_a_multi_input_model(fake_pandas):
    frame, series = fake_pandas
    model = _two_inputs(kerax)
    model.fit({"a": frame(X), "b": frame(X[:, :2])}, series(Y), verbose=0)
    assert model.predict({"a": frame(X), "b": frame(X[:, :2])}, verbose=0).shape == (8, 2)


# --- dict keys, class_weight, initial_epoch: as Keras, with a warning where Keras is silent

@pytest.mark.parametrize("what", ["fit", "evaluate", "predict"])
def test_an_extra_dict_key_warns_as_in_keras(keras, what):
    for lib in (keras, kerax):
        model = _two_inputs(lib)
        data = {"a": X, "b": X[:, :2], "c": X}
        args = (data,) if what == "predict" else (data, Y)
        _, msgs = _caught(lambda: getattr(model, what)(*args, verbose=0))
        assert any("The structure of `inputs` doesn't match the expected structure" in m
                   and "'c'" in m for m in msgs), (lib.__name__, msgs)


def test_a_misspelled_dict_key_names_the_missing_input():
    # Keras warns and feeds the arrays by position; kerax refuses (never a silent mix-up).
    with pytest.raises(ValueError, match=r"Missing data for input 'b'.*\['a', 'bb'\]"):
        _two_inputs(kerax).fit({"a": X, "bb": X[:, :2]}, Y, verbose=0)


@pytest.mark.parametrize("class_weight, message", [
    ({0: 1.0, 1: 2.0, 5: 3.0}, r"names classes \[5\] that do not occur in `y`"),
    ({0: 2.0}, r"no weight for classes \[1\] of `y`: their samples get weight 1.0"),
])
def test_class_weight_naming_no_class_or_missing_one_trains_as_keras_and_warns(
        keras, class_weight, message):
    models = [_classifier(lib) for lib in (keras, kerax)]
    models[1].set_weights(models[0].get_weights())
    models[0].fit(X, Y, class_weight=class_weight, batch_size=8, shuffle=False, verbose=0)
    with pytest.warns(UserWarning, match=message):
        models[1].fit(X, Y, class_weight=class_weight, batch_size=8, shuffle=False,
                      verbose=0)
    for a, b in zip(models[0].get_weights(), models[1].get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("initial_epoch", [2, 3])
def test_initial_epoch_at_or_past_epochs_trains_nothing_as_in_keras(keras, initial_epoch):
    for lib in (keras, kerax):
        model = _classifier(lib)
        before = [np.array(w) for w in model.get_weights()]
        if lib is kerax and initial_epoch > 2:
            with pytest.warns(UserWarning, match=r"`initial_epoch=3` is greater than "
                                                 r"`epochs=2`.*pass `epochs=5`"):
                hist = model.fit(X, Y, epochs=2, initial_epoch=initial_epoch, verbose=0)
        else:
            hist = model.fit(X, Y, epochs=2, initial_epoch=initial_epoch, verbose=0)
        assert (hist.history, hist.epoch) == ({}, []), lib.__name__
        for a, b in zip(before, model.get_weights()):
            np.testing.assert_array_equal(a, b)


# --- missing pieces: an error that says what is missing and how to fix it ---------------

def test_fit_without_targets_for_a_supervised_loss_says_so():
    with pytest.raises(ValueError, match=r"`fit\(\)` received no targets `y`.*\n"
                                         r"To fix: pass the targets: `fit\(x, y\)`"):
        _classifier(kerax).fit(X, None, verbose=0)
    with pytest.raises(ValueError, match=r"`evaluate\(\)` received no targets"):
        _classifier(kerax).evaluate(X, verbose=0)


def test_a_generator_yielding_only_x_for_a_supervised_loss_says_so():
    def batches():
        while True:
            yield (X,)

    with pytest.raises(ValueError, match=r"received no targets `y`.*\n.*yield `\(x, y\)`.*"
                                         r"it yielded `x` or `\(x,\)`"):
        _classifier(kerax).fit(batches(), steps_per_epoch=2, verbose=0)


@pytest.mark.parametrize("method", ["fit", "evaluate", "predict"])
@pytest.mark.parametrize("getitem", ["returns", "raises"])
def test_an_empty_py_dataset_says_the_data_is_empty(method, getitem):
    class Empty(kerax.utils.PyDataset):
        def __len__(self):
            return 0

        def __getitem__(self, i):
            if getitem == "raises":  # a list-backed dataset: there is no batch 0
                raise IndexError(i)
            return X, Y

    with pytest.raises(ValueError, match=r"data is empty.*Check its length"):
        getattr(_classifier(kerax), method)(Empty(), verbose=0)


def test_an_empty_iterable_says_the_data_is_empty():
    class Batches:  # re-iterable, as a data loader object
        def __iter__(self):
            return iter(())

    with pytest.raises(ValueError, match=r"data is empty: the Batches passed to a kerax model "
                                         r"yields no batches"):
        _classifier(kerax).fit(Batches(), verbose=0)


def test_validation_data_of_the_wrong_shape_fails_before_the_first_epoch():
    model, epochs = _classifier(kerax), []
    record = kerax.callbacks.LambdaCallback(on_epoch_begin=lambda e, logs: epochs.append(e))
    with pytest.raises(ValueError, match=r"`validation_data` does not fit the model.*\n"
                                         r"Expected x shapes \(as the training data\): "
                                         r"\(None, 3\)\nReceived validation x shapes: "
                                         r"\(None, 5\)"):
        model.fit(X, Y, validation_data=(np.ones((4, 5)), Y[:4]), verbose=0,
                  callbacks=[record])
    assert epochs == []


def test_two_arrays_for_a_one_input_model_is_an_error_about_the_inputs():
    with pytest.raises(ValueError, match=r"has one input, but `x` in `fit\(\)` is a list of 2 "
                                         r"input arrays.*\nThis is about the inputs `x`, "
                                         r"not the labels"):
        _classifier(kerax).fit([X, X], Y, verbose=0)


def test_first_lines_of_non_finite_loss_and_unknown_identifier_errors_are_short():
    model = kerax.Sequential([kerax.Input((3,)), kerax.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(kerax.errors.NonFiniteLossError, match=r"NaN or infinite") as nan:
        model.fit(X * np.inf, Y, verbose=0)
    with pytest.raises(kerax.errors.UnknownIdentifierError,
                       match=r"Did you mean: 'mse'") as unknown:
        model.compile(optimizer="sgd", loss="msee")
    with pytest.raises(kerax.errors.UnknownIdentifierError, match=r"'relux'") as act:
        kerax.activations.get("relux")
    for err in (nan, unknown, act):
        first, _, rest = str(err.value).partition("\n")
        assert len(first) < 120 and rest, str(err.value)
