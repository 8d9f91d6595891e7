"""String layers in `.keras` files (both ways), vocabulary files and config round trips.

`goldens/*.keras` were saved by Keras 3 on TensorFlow (make_text_goldens.py) with the
outputs recorded next to them; the other direction (Keras loading kerax's files) is
checked by goldens/check_kerax_files.py, which needs TensorFlow.
"""

import json
import os
import zipfile

import h5py
import numpy as np
import pytest

import kerax
from kerax.errors import WeightsMismatchError

HERE = os.path.join(os.path.dirname(__file__), "goldens")
with open(os.path.join(HERE, "text_goldens.json")) as f:
    DOC = json.load(f)
L = kerax.layers


def _outputs(model, x):
    outs = model(x)
    return [np.asarray(o) for o in (outs if isinstance(outs, (list, tuple)) else [outs])]


@pytest.mark.parametrize("name, key", [("int_lookup_model.keras", "model_file"),
                                       ("text_model.keras", "text_model_file")])
def test_keras_written_files_load_and_give_keras_outputs(name, key, tmp_path):
    record = DOC[key]
    model = kerax.saving.load_model(os.path.join(HERE, name))
    x = np.array(record["inputs"])
    for got, want in zip(_outputs(model, x), record["outputs"]):
        np.testing.assert_allclose(got, np.asarray(want, np.float64), rtol=1e-6, atol=1e-7)
    # and kerax writes them back with the same assets and arrays
    model.save(tmp_path / "again.keras")
    again = kerax.saving.load_model(tmp_path / "again.keras")
    for got, want in zip(_outputs(again, x), record["outputs"]):
        np.testing.assert_allclose(got, np.asarray(want, np.float64), rtol=1e-6, atol=1e-7)
    assert sorted(n for n in zipfile.ZipFile(tmp_path / "again.keras").namelist()
                  if n.startswith("assets/")) == \
        sorted(n for n in zipfile.ZipFile(os.path.join(HERE, name)).namelist()
               if n.startswith("assets/"))


def test_padded_tf_idf_round_trips(tmp_path):
    # Keras on TF cannot reload this one (its load_assets passes the padded IDF back).
    tv = L.TextVectorization(output_mode="tf_idf", max_tokens=12, pad_to_max_tokens=True)
    tv.adapt(["a b c", "a a", "d"])
    x = kerax.Input(shape=(1,), dtype="string")
    model = kerax.Model(x, tv(x))
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as z:
        f = h5py.File(z.open("model.weights.h5"))
        assert f["layers/text_vectorization/vars/idf_weights"].shape == (12,)
        assert f["layers/text_vectorization/_lookup_layer/vars/idf_weights"].shape == (12,)
    loaded = kerax.saving.load_model(tmp_path / "m.keras")
    data = np.array([["a d"], ["b b zz"]])
    np.testing.assert_array_equal(_outputs(loaded, data)[0], _outputs(model, data)[0])
    assert loaded.layers[1].get_vocabulary() == tv.get_vocabulary()


def test_idf_array_of_another_shape_is_refused(tmp_path):
    sl = L.StringLookup(output_mode="tf_idf")
    sl.adapt(np.array([["a", "b"], ["a", "c"]]))
    x = kerax.Input(shape=(2,), dtype="string")
    model = kerax.Model(x, sl(x))
    model.save(tmp_path / "m.keras")
    other = L.StringLookup(output_mode="tf_idf", vocabulary_size=9, name=sl.name)
    other_model = kerax.Model(x2 := kerax.Input(shape=(2,), dtype="string"), other(x2))
    with pytest.raises(WeightsMismatchError, match="idf_weights.*has shape"):
        other_model.load_weights(tmp_path / "m.keras")


@pytest.mark.parametrize("cls, vocab, inputs, expected", [
    ("StringLookup", ["b", "Ü", "c"], [["c", "Ü", "q"]], [[3, 2, 0]]),
    ("IntegerLookup", [7, -3, 12], [[12, -3, 5]], [[3, 2, 0]]),
])
def test_vocabulary_file(cls, vocab, inputs, expected, tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("\n".join(str(v) for v in vocab) + "\n", encoding="utf-8")
    layer = getattr(L, cls)(vocabulary=str(path))
    assert np.asarray(layer(inputs)).tolist() == expected
    assert layer.get_vocabulary()[1:] == vocab
    assert layer.get_config()["vocabulary"] is None  # as Keras: the file goes to assets
    x = kerax.Input(shape=(3,), dtype="string" if cls == "StringLookup" else "int64")
    model = kerax.Model(x, layer(x))
    model.save(tmp_path / "m.keras")
    os.remove(path)  # the vocabulary travels in the archive's assets
    loaded = kerax.saving.load_model(tmp_path / "m.keras")
    assert np.asarray(loaded(np.array(inputs))).tolist() == expected


def test_vocabulary_file_refused_while_loading_in_safe_mode(tmp_path):
    from kerax.serialization.serialization_lib import SafeModeScope

    path = tmp_path / "vocab.txt"
    path.write_text("a\nb\n")
    with SafeModeScope(True), pytest.raises(ValueError, match="vocabulary file outside"):
        L.StringLookup(vocabulary=str(path))
    with SafeModeScope(False):
        assert L.StringLookup(vocabulary=str(path)).vocabulary_size() == 3


def test_vocabulary_file_errors(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        L.StringLookup(vocabulary=str(tmp_path / "missing.txt"))
    path = tmp_path / "v.txt"
    path.write_text("a\n")
    layer = L.StringLookup(output_mode="tf_idf")
    with pytest.raises(ValueError, match="does not support loading a vocabulary from file"):
        layer.set_vocabulary(str(path), idf_weights=[1.0])


@pytest.mark.parametrize("make", [
    lambda: L.StringLookup(vocabulary=["a", "b"], num_oov_indices=2, mask_token="", salt=5),
    lambda: L.IntegerLookup(vocabulary=[3, 4], output_mode="count", pad_to_max_tokens=True,
                            max_tokens=6),
    lambda: L.TextVectorization(vocabulary=["a", "b"], ngrams=(1, 2), output_mode="tf_idf",
                                idf_weights=[1.0, 2.0], split="character"),
    lambda: L.HashedCrossing(num_bins=4, output_mode="one_hot"),
])
def test_config_round_trip(make):
    layer = make()
    config = layer.get_config()
    clone = type(layer).from_config(json.loads(json.dumps(config)))
    assert clone.get_config() == config


def test_adapted_layer_config_keeps_the_vocabulary_size_for_encoded_outputs():
    tv = L.TextVectorization(output_mode="multi_hot")
    tv.adapt(["a b", "c"])
    clone = L.TextVectorization.from_config(tv.get_config())  # vocabulary: from assets
    assert clone.get_config()["vocabulary_size"] == 1  # as Keras: the live size (no terms yet)
    x = kerax.Input(shape=(1,), dtype="string")
    assert clone(x).shape == (None, 4)


@kerax.saving.register_keras_serializable(package="text_tests")
def _no_breaks(x):
    return np.char.lower(np.char.replace(x, "<br />", " "))


def test_registered_standardize_function_travels_in_the_file(tmp_path):
    tv = L.TextVectorization(standardize=_no_breaks, output_sequence_length=3)
    tv.adapt(["A<br />b", "b c"])
    x = kerax.Input(shape=(1,), dtype="string")
    model = kerax.Model(x, tv(x))
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as z:
        config = json.loads(z.read("config.json"))["config"]["layers"][1]["config"]
    assert config["standardize"]["class_name"] == "function"
    assert config["standardize"]["registered_name"] == "text_tests>_no_breaks"
    loaded = kerax.saving.load_model(tmp_path / "m.keras")
    data = np.array([["A<br />B c"]])
    np.testing.assert_array_equal(np.asarray(loaded(data)), np.asarray(model(data)))
    assert loaded.layers[1].get_vocabulary() == tv.get_vocabulary()
