"""Real pandas DataFrames and Series in `fit`/`evaluate`/`predict`, checked on Keras 3.

kerax never imports pandas (it recognises the types when the program already did, see
`array_data_adapter.is_pandas`); `tests/trainer/test_bad_inputs.py` runs the same paths
with a stand-in module where pandas is not installed.
"""

import numpy as np
import pytest

import kerax

pd = pytest.importorskip("pandas")

RNG = np.random.default_rng(0)
X = RNG.normal(size=(12, 3)).astype("float32")
Y = (X.sum(1) > 0).astype("float32")
FRAME = pd.DataFrame(X, columns=["a", "b", "c"])
LABELS = pd.Series(Y, name="y")
WEIGHTS = pd.Series(np.linspace(0.5, 2.0, 12), name="w")


def _binary(lib):
    model = lib.Sequential([lib.Input((3,)), lib.layers.Dense(4, activation="relu"),
                            lib.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["accuracy"])
    return model


def _columns(lib):
    """One input per DataFrame column (Keras' "dict of columns" recipe)."""
    ins = {k: lib.Input((1,), name=k) for k in ("a", "b", "c")}
    h = lib.layers.Dense(4, activation="tanh")(lib.layers.Concatenate()(list(ins.values())))
    model = lib.Model(ins, lib.layers.Dense(1)(h))
    model.compile(optimizer="sgd", loss="mse")
    return model


def _pair(keras, build):
    ref, model = build(keras), build(kerax)
    model.set_weights(ref.get_weights())
    return ref, model


def _assert_history_close(a, b):
    assert sorted(a.history) == sorted(b.history)
    for k in a.history:
        np.testing.assert_allclose(a.history[k], b.history[k], rtol=1e-5, atol=1e-6)


def test_dataframe_series_weights_and_validation_frames_match_keras(keras):
    ref, model = _pair(keras, _binary)
    kwargs = dict(sample_weight=WEIGHTS, validation_data=(FRAME, LABELS), batch_size=4,
                  epochs=2, shuffle=False, verbose=0)
    _assert_history_close(ref.fit(FRAME, LABELS, **kwargs), model.fit(FRAME, LABELS, **kwargs))
    for a, b in zip(ref.get_weights(), model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.evaluate(FRAME, LABELS, sample_weight=WEIGHTS, verbose=0),
                               ref.evaluate(FRAME, LABELS, sample_weight=WEIGHTS, verbose=0),
                               rtol=1e-5)
    np.testing.assert_allclose(model.predict(FRAME, verbose=0), ref.predict(FRAME, verbose=0),
                               rtol=1e-5, atol=1e-6)


def test_a_dict_of_series_feeds_one_input_per_column_as_keras(keras):
    ref, model = _pair(keras, _columns)
    columns = {k: FRAME[k] for k in FRAME.columns}
    kwargs = dict(batch_size=4, epochs=2, shuffle=False, verbose=0,
                  validation_data=(columns, LABELS))
    _assert_history_close(ref.fit(columns, LABELS, **kwargs),
                          model.fit(columns, LABELS, **kwargs))
    np.testing.assert_allclose(model.predict(columns, verbose=0),
                               ref.predict(columns, verbose=0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.evaluate(columns, LABELS, verbose=0),
                               ref.evaluate(columns, LABELS, verbose=0), rtol=1e-5)


def test_mixed_int_and_float_columns_and_a_one_column_target_frame_match_keras(keras):
    frame = FRAME.assign(a=np.arange(12))  # an int64 column: the values become float64
    target = pd.DataFrame({"y": Y})
    ref, model = _pair(keras, _binary)
    kwargs = dict(batch_size=4, epochs=1, shuffle=False, verbose=0)
    _assert_history_close(ref.fit(frame, target, **kwargs), model.fit(frame, target, **kwargs))


def test_a_text_column_is_named_before_training():
    frame = FRAME.assign(a=["x"] * 12)
    with pytest.raises(TypeError, match=r"`x` has dtype object, which kerax cannot train on"
                                        r".*Convert it to a numeric array"):
        _binary(kerax).fit(frame, LABELS, verbose=0)


def test_frames_of_different_lengths_are_refused_as_in_keras():
    with pytest.raises(ValueError, match=r"Data cardinality is ambiguous: x has 12, y has 10"):
        _binary(kerax).fit(FRAME, LABELS[:10], verbose=0)


def test_a_validation_frame_with_the_wrong_columns_fails_before_training():
    model = _binary(kerax)
    before = [w.copy() for w in model.get_weights()]
    with pytest.raises(ValueError, match=r"validation_data"):
        model.fit(FRAME, LABELS, epochs=1, verbose=0,
                  validation_data=(FRAME[["a", "b"]], LABELS))
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("what", ["fit", "evaluate"])
def test_a_sample_weight_of_the_wrong_shape_names_the_users_shapes_before_training(what):
    # Keras 3: "Incompatible shapes for broadcasting: shapes=[(8,), (8, 4)]" mid-step.
    model = _binary(kerax)
    before = [w.copy() for w in model.get_weights()]
    weights = pd.DataFrame(np.ones((12, 4)))
    with pytest.raises(ValueError, match=r"`sample_weight` of shape \(12, 4\) does not fit "
                                         r"the per-sample losses of shape \(12,\)\. Pass one "
                                         r"weight per sample"):
        getattr(model, what)(FRAME, LABELS, sample_weight=weights, batch_size=32, verbose=0)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_empty_validation_frames_are_refused_before_training():
    # Keras 3 trains and skips validation; kerax trained an epoch, then said "The input
    # data is empty" without naming validation_data.
    model = _binary(kerax)
    before = [w.copy() for w in model.get_weights()]
    with pytest.raises(ValueError, match=r"`validation_data` is empty \(0 samples\), found "
                                         r"before training starts"):
        model.fit(FRAME, LABELS, verbose=0, validation_data=(FRAME[:0], LABELS[:0]))
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_a_sequential_model_takes_a_dict_keyed_by_its_input_name_as_keras(keras):
    # kerax failed with numpy's "entry not a 2- or 3- tuple" for either dict.
    def build(lib):
        model = lib.Sequential([lib.Input((3,), name="x"), lib.layers.Dense(1)])
        model.compile(optimizer="sgd", loss="mse")
        return model

    ref, model = _pair(keras, build)
    kwargs = dict(batch_size=4, epochs=1, shuffle=False, verbose=0)
    kwargs["validation_data"] = ({"x": FRAME}, LABELS)
    _assert_history_close(ref.fit({"x": FRAME}, LABELS, **kwargs),
                          model.fit({"x": FRAME}, LABELS, **kwargs))
    np.testing.assert_allclose(model.predict({"x": FRAME}, verbose=0),
                               ref.predict({"x": FRAME}, verbose=0), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match=r"Missing data for input 'x' of model '.*'\. You "
                                         r"passed a data dictionary with keys \['a'\]"):
        model.fit({"a": FRAME}, LABELS, verbose=0)


def test_nullable_columns_without_missing_values_train_as_their_numpy_dtype():
    # Keras 3 refuses these dtypes ("Invalid dtype: Float64"); kerax converts them.
    nullable = FRAME.astype({"a": "Float64", "b": "Float64"}).assign(c=FRAME["c"])
    ints = pd.Series(Y.astype("int64"), dtype="Int64")
    kerax.utils.set_random_seed(0)
    plain = _binary(kerax).fit(FRAME, LABELS, epochs=2, batch_size=4, verbose=0, shuffle=False)
    kerax.utils.set_random_seed(0)
    typed = _binary(kerax).fit(nullable, ints, epochs=2, batch_size=4, verbose=0, shuffle=False)
    np.testing.assert_allclose(typed.history["loss"], plain.history["loss"], rtol=1e-6)


def _with_a_missing_value():
    frame = FRAME.astype({"b": "Float64"})
    frame.loc[3, "b"] = pd.NA
    return frame


@pytest.mark.parametrize("where, frame, labels", [
    ("`x`", _with_a_missing_value(), LABELS),
    ("`y`", FRAME, pd.Series(pd.array([1, None] + [0] * 10, dtype="Int64"), name="y")),
])
def test_missing_values_in_nullable_columns_are_named_before_training(where, frame, labels):
    model = _binary(kerax)
    before = [w.copy() for w in model.get_weights()]
    column = r"\['b'\]" if where == "`x`" else r"\['y'\]"
    with pytest.raises(ValueError, match=rf"{where} has missing values \(pd.NA\) in column\(s\) "
                                         rf"{column}.*fillna"):
        model.fit(frame, labels, epochs=1, verbose=0)
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)
