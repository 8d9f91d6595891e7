"""`fit` / `evaluate` / `predict` on raw strings: the host prefix runs in the pipeline.

Keras cannot run TextVectorization without TensorFlow, so the reference is Keras 3 (JAX)
training the same remainder (Embedding -> pooling -> Dense, same initial weights) on the
ids the vectorizer gives (which equal Keras-on-TF's: test_text_goldens.py).
"""

import numpy as np
import pytest

import kerax

L = kerax.layers
TEXTS = np.array(["good movie", "bad movie", "great film!", "awful film", "Good film",
                  "bad acting", "great acting", "awful movie"] * 3)
LABELS = np.array([1, 0, 1, 0, 1, 0, 1, 0] * 3, "float32")


def _string_model():
    tv = L.TextVectorization(max_tokens=16, output_sequence_length=4)
    tv.adapt(TEXTS)
    model = kerax.Sequential([kerax.Input(shape=(1,), dtype="string"), tv,
                              L.Embedding(16, 4), L.GlobalAveragePooling1D(),
                              L.Dense(1, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["accuracy"])
    return model, tv


def test_fit_on_strings_equals_keras_on_the_vectorized_ids(keras):
    model, tv = _string_model()
    ids = np.asarray(tv(TEXTS[:, None]))
    reference = keras.Sequential([keras.Input(shape=(4,), dtype="int32"),
                                  keras.layers.Embedding(16, 4),
                                  keras.layers.GlobalAveragePooling1D(),
                                  keras.layers.Dense(1, activation="sigmoid")])
    reference.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["accuracy"])
    reference.set_weights(model.get_weights())
    history = model.fit(TEXTS[:, None], LABELS, batch_size=5, epochs=2, shuffle=False,
                        verbose=0, validation_data=(TEXTS[:6, None], LABELS[:6]))
    expected = reference.fit(ids, LABELS, batch_size=5, epochs=2, shuffle=False, verbose=0,
                             validation_data=(ids[:6], LABELS[:6]))
    for name, values in expected.history.items():
        np.testing.assert_allclose(history.history[name], values, rtol=1e-5, atol=1e-6)
    for got, want in zip(model.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.predict(list(TEXTS), verbose=0),
                               reference.predict(ids, verbose=0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.evaluate(TEXTS[:, None], LABELS, verbose=0),
                               reference.evaluate(ids, LABELS, verbose=0), rtol=1e-5)


def test_a_stream_of_string_batches_trains_as_the_array_does():
    model, _ = _string_model()
    twin, _ = _string_model()
    twin.set_weights(model.get_weights())
    model.fit(TEXTS[:, None], LABELS, batch_size=8, epochs=1, shuffle=False, verbose=0)

    def batches():
        for i in range(0, len(TEXTS), 8):
            yield TEXTS[i:i + 8, None], LABELS[i:i + 8]

    twin.fit(batches(), epochs=1, verbose=0)
    for got, want in zip(twin.get_weights(), model.get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


def test_functional_model_with_a_string_input_and_a_numeric_input(tmp_path):
    words = kerax.Input(shape=(1,), dtype="string", name="words")
    numbers = kerax.Input(shape=(2,), name="numbers")
    lookup = L.StringLookup(vocabulary=["red", "green", "blue"], output_mode="one_hot")
    x = L.Concatenate()([lookup(words), L.Dense(3)(numbers)])
    model = kerax.Model([words, numbers], L.Dense(1)(x))
    model.compile(optimizer="sgd", loss="mse")
    colours = np.array([["red"], ["blue"], ["pink"], ["green"]])
    values = np.arange(8, dtype="float32").reshape(4, 2)
    y = np.array([[1.0], [0.0], [1.0], [0.0]], "float32")
    model.fit([colours, values], y, batch_size=2, epochs=1, verbose=0)
    out = model.predict({"words": colours, "numbers": values}, verbose=0)
    np.testing.assert_allclose(out, np.asarray(model([colours, values])), rtol=1e-6)
    model.save(tmp_path / "m.keras")
    loaded = kerax.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(loaded.predict([colours, values], verbose=0), out, rtol=1e-6)


def test_on_batch_methods_with_strings():
    model, _ = _string_model()
    loss, _ = model.train_on_batch(TEXTS[:4, None], LABELS[:4])
    assert np.isfinite(loss)
    np.testing.assert_allclose(model.test_on_batch(TEXTS[:4, None], LABELS[:4]),
                               model.evaluate(TEXTS[:4, None], LABELS[:4], verbose=0),
                               rtol=1e-6)
    np.testing.assert_allclose(model.predict_on_batch(TEXTS[:3, None]),
                               np.asarray(model(TEXTS[:3, None])), rtol=1e-6)


def test_hashing_in_front_of_a_dense_model_trains_on_strings():
    model = kerax.Sequential([kerax.Input(shape=(1,), dtype="string"),
                              L.Hashing(num_bins=8, output_mode="one_hot"),
                              L.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    words = np.array([["cat"], ["dog"], ["emu"], ["cat"]])
    history = model.fit(words, np.array([1.0, 0.0, 0.5, 1.0]), epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    np.testing.assert_allclose(model.predict(words, verbose=0), np.asarray(model(words)),
                               rtol=1e-6)


def test_a_host_layer_deeper_in_the_model_says_where_to_run_it():
    inputs = kerax.Input(shape=(2,), dtype="int64")
    hashed = L.Hashing(num_bins=4)(L.Lambda(lambda t: t + 1)(inputs))
    model = kerax.Model(inputs, hashed)
    with pytest.raises(TypeError, match="runs on the host and cannot hash traced values"):
        model.predict(np.array([[1, 2]]), verbose=0)


def test_text_dataset_from_directory_trains_a_string_model(tmp_path):
    for label, texts in (("neg", ["bad movie", "awful film"]), ("pos", ["good movie",
                                                                        "great film"])):
        (tmp_path / label).mkdir()
        for i, text in enumerate(texts * 3):
            (tmp_path / label / f"{i}.txt").write_text(text)
    dataset = kerax.utils.text_dataset_from_directory(tmp_path, batch_size=4, seed=1,
                                                      verbose=False)
    model, tv = _string_model()
    seen_before = len(dataset)
    history = model.fit(dataset, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2 and len(dataset) == seen_before
    texts = np.array([["good movie"], ["awful film"]])
    assert model.predict(texts, verbose=0).shape == (2, 1)


def test_hashed_crossing_of_two_inputs_in_a_functional_model():
    colour = kerax.Input(shape=(), dtype="string", name="colour")
    size = kerax.Input(shape=(), dtype="int64", name="size")
    crossed = L.HashedCrossing(num_bins=6, output_mode="one_hot")([colour, size])
    model = kerax.Model({"colour": colour, "size": size}, L.Dense(1)(crossed))
    model.compile(optimizer="sgd", loss="mse")
    data = {"colour": np.array(["red", "blue", "red", "green"]), "size": np.array([1, 2, 2, 1])}
    history = model.fit(data, np.array([1.0, 0.0, 1.0, 0.5]), batch_size=2, epochs=2,
                        verbose=0)
    assert len(history.history["loss"]) == 2
    np.testing.assert_allclose(model.predict(data, verbose=0), np.asarray(model(data)),
                               rtol=1e-6)


def test_scalar_string_input_feeds_a_sequence_model():
    tv = L.TextVectorization(max_tokens=16, output_sequence_length=4)
    tv.adapt(TEXTS)
    model = kerax.Sequential([kerax.Input(shape=(), dtype="string"), tv,
                              L.Embedding(16, 4), L.GlobalAveragePooling1D(), L.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(TEXTS, LABELS, batch_size=8, epochs=1, verbose=0)
    np.testing.assert_allclose(model.predict(TEXTS[:3], verbose=0),
                               np.asarray(model(TEXTS[:3])), rtol=1e-6)


@pytest.mark.parametrize("first", ["call", "predict"])
def test_calling_a_model_on_raw_strings_runs_its_host_prefix_as_predict_does(first):
    # Keras (on TensorFlow) runs TextVectorization inside `model(strings)`; a Sequential
    # without an `Input` is built by whichever comes first.
    tv = L.TextVectorization(max_tokens=16, output_sequence_length=4)
    tv.adapt(TEXTS)
    model = kerax.Sequential([tv, L.Embedding(16, 4), L.GlobalAveragePooling1D(), L.Dense(1)])
    texts = np.array(["good film", "awful movie", "unknown words"])
    if first == "call":
        called = np.asarray(model(texts))
        predicted = model.predict(texts, verbose=0)
    else:
        predicted = model.predict(texts, verbose=0)
        called = np.asarray(model(texts))
    np.testing.assert_allclose(called, predicted, rtol=1e-6)
    np.testing.assert_array_equal(np.asarray(tv(texts)), tv.host_call(texts))  # eager, alone


def test_calling_a_feature_space_model_on_a_dict_of_raw_columns():
    fs = kerax.utils.FeatureSpace({"x": "float", "c": kerax.utils.FeatureSpace.string_hashed(4)})
    fs.adapt({"x": np.arange(4.0), "c": np.array(["a", "b", "a", "c"])})
    model = kerax.Model(fs.get_inputs(), L.Dense(1)(fs.get_encoded_features()))
    data = {"x": np.array([1.0, 2.0]), "c": np.array(["a", "z"])}
    np.testing.assert_allclose(np.asarray(model(data)), model.predict(data, verbose=0),
                               rtol=1e-6)
