"""A `Sequential` without an `Input` whose first layer is a host (string) layer is built
on its raw (string or integer) input, as Keras shows it, not on the vectorized ids.

Keras trains on strings only on TensorFlow (on JAX, `fit` refuses string arrays), so
the reference is Keras 3.15 on TensorFlow 2.21, recorded here (CI never installs
TensorFlow); the same program there:

    tv = keras.layers.TextVectorization(max_tokens=20, output_sequence_length=4)
    tv.adapt(TEXT)
    model = keras.Sequential([tv, keras.layers.Embedding(20, 3),
                              keras.layers.GlobalAveragePooling1D(), keras.layers.Dense(1)])
    model.compile("adam", "mse")
    model.fit(tf.data.Dataset.from_tensor_slices((TEXT, y)).batch(2))  # or as in KERAS
    print(model.input_shape, model.inputs[0].dtype, model.layers[0].output.shape)

`fit` and `evaluate` trace with an unknown batch (`(None,)`), `predict` records its first
batch, an eager call and `train_on_batch` their whole batch. A kerax file of such a model
loads in Keras on TensorFlow with the same outputs (checked by hand with
`/tmp/tfenv`, see `tests/layers/preprocessing/goldens/check_kerax_files.py`).
"""

import numpy as np
import pytest

import kerax

TEXT = np.array(["the cat sat", "a dog ran", "the dog sat down", "cats and dogs"])
Y = np.ones((4, 1), "float32")

# entry point -> (input_shape, the TextVectorization's output shape), from Keras on TF
KERAS = {
    "fit": ((None,), (None, 4)),
    "evaluate": ((None,), (None, 4)),
    "predict": ((2,), (2, 4)),
    "call": ((4,), (4, 4)),
    "train_on_batch": ((4,), (4, 4)),
    "fit_stream": ((None,), (None, 4)),
    "predict_stream": ((2,), (2, 4)),
}
SUMMARY_AFTER_FIT = ["(None, 4)", "(None, 4, 3)", "(None, 3)", "(None, 1)"]  # Keras on TF


def _model():
    tv = kerax.layers.TextVectorization(max_tokens=20, output_sequence_length=4)
    tv.adapt(TEXT)
    model = kerax.Sequential([tv, kerax.layers.Embedding(20, 3),
                              kerax.layers.GlobalAveragePooling1D(), kerax.layers.Dense(1)])
    model.compile("adam", "mse")
    return model


def _run(model, how):
    halves = [(TEXT[:2], Y[:2]), (TEXT[2:], Y[2:])]
    {"fit": lambda: model.fit(TEXT, Y, batch_size=2, verbose=0),
     "evaluate": lambda: model.evaluate(TEXT, Y, batch_size=2, verbose=0),
     "predict": lambda: model.predict(TEXT, batch_size=2, verbose=0),
     "call": lambda: model(TEXT),
     "train_on_batch": lambda: model.train_on_batch(TEXT, Y),
     "fit_stream": lambda: model.fit(iter(halves), steps_per_epoch=2, verbose=0),
     "predict_stream": lambda: model.predict(iter([x for x, _ in halves]), verbose=0),
     }[how]()


@pytest.mark.parametrize("how", sorted(KERAS))
def test_built_on_the_raw_string_input_as_keras(how, tmp_path):
    model = _model()
    _run(model, how)
    input_shape, vectorized = KERAS[how]
    assert model.input_shape == input_shape
    assert model.inputs[0].dtype == "string"
    assert model.layers[0].output.shape == vectorized
    assert model.get_build_config() == {"input_shape": input_shape}
    config = model.get_config()
    assert config["layers"][0]["config"]["batch_shape"] == input_shape
    assert config["layers"][0]["config"]["dtype"] == "string"
    model.save(tmp_path / "m.keras")
    loaded = kerax.models.load_model(tmp_path / "m.keras")
    assert loaded.input_shape == input_shape and loaded.inputs[0].dtype == "string"
    np.testing.assert_allclose(loaded.predict(TEXT, verbose=0), model.predict(TEXT, verbose=0),
                               rtol=1e-6)


def test_summary_after_fit_shows_keras_shapes(capsys):
    model = _model()
    model.fit(TEXT, Y, batch_size=2, verbose=0)
    model.summary()
    text = capsys.readouterr().out
    rows = [line.split("│")[2].strip() for line in text.splitlines()
            if line.startswith("│") and "(" in line.split("│")[2]]
    assert rows == SUMMARY_AFTER_FIT


def test_integers_into_a_host_layer_are_its_input_too():
    """Keras on TensorFlow, `IntegerLookup(output_mode="multi_hot")` first, `fit` on a
    `(4, 2)` int64 array in batches of 2: input `(None, 2)` int64, lookup output
    `(None, 4)` (kerax built it on the multi-hot output before)."""
    lookup = kerax.layers.IntegerLookup(output_mode="multi_hot")
    lookup.adapt(np.array([3, 3, 9, 1]))
    model = kerax.Sequential([lookup, kerax.layers.Dense(1)])
    model.compile("sgd", "mse")
    model.fit(np.array([[3, 9], [1, 5], [9, 9], [2, 3]], np.int64), Y, batch_size=2, verbose=0)
    assert (model.input_shape, model.inputs[0].dtype) == ((None, 2), "int64")
    assert model.layers[0].output.shape == (None, 4)
