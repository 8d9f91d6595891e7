"""`kerax.utils.FeatureSpace` beyond the goldens: the data it adapts on (pandas, streams),
`fit` on raw dict data, saving both ways with Keras' file, and its error messages.

Keras 3 needs TensorFlow for FeatureSpace, so the outputs are compared with the goldens
Keras wrote (`goldens/feature_space_goldens.json`, `goldens/feature_space.keras`).
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import kerax

sys.path.insert(0, os.path.dirname(__file__))
from test_feature_space_goldens import CASES, DOC, GOLDENS, build, inputs  # noqa: E402

FS = kerax.utils.FeatureSpace
ALL_TYPES = next(c for c in CASES if c["id"] == "all_types_dict")


def _assert_outputs(out, want):
    assert sorted(out) == sorted(want)
    for name, value in want.items():
        np.testing.assert_allclose(np.asarray(out[name]), np.asarray(value), rtol=1e-5,
                                   atol=1e-6, err_msg=name)


def test_loads_the_file_keras_saved():
    fs = kerax.models.load_model(os.path.join(GOLDENS, "feature_space.keras"))
    _assert_outputs(fs(inputs(ALL_TYPES)), DOC["saved_file_output"])


def test_save_and_load_round_trip(tmp_path):
    fs = build(ALL_TYPES)
    fs.save(tmp_path / "fs.keras")
    loaded = kerax.models.load_model(tmp_path / "fs.keras")
    _assert_outputs(loaded(inputs(ALL_TYPES)), DOC["saved_file_output"])
    config = json.loads(kerax.saving.saving_lib.zipfile.ZipFile(
        tmp_path / "fs.keras").read("config.json"))
    assert (config["module"], config["class_name"]) == ("keras.utils", "FeatureSpace")
    assert sorted(config["build_config"]) == sorted(ALL_TYPES["features"])


def test_adapt_on_a_pandas_dataframe_equals_a_dict():
    pd = pytest.importorskip("pandas")
    case = next(c for c in CASES if c["id"] == "all_types_concat")
    want = build(case)(inputs(case))
    fs = FS(features={k: v for k, v in build(case).features.items()},
            crosses=[tuple(c) for c in case["crosses"]], **case["kwargs"])
    fs.adapt(pd.DataFrame(case["adapt"]))
    np.testing.assert_allclose(fs(inputs(case)), want, rtol=1e-6)


def test_adapt_on_a_stream_of_labelled_batches():
    data = {"x": np.arange(10.0), "c": np.array(list("abcabcabca"))}
    fs = FS({"x": "float_normalized", "c": "string_categorical"})
    fs.adapt((({k: v[i:i + 4] for k, v in data.items()}, np.zeros(4)) for i in range(0, 10, 4)))
    ref = FS({"x": "float_normalized", "c": "string_categorical"})
    ref.adapt(data)
    np.testing.assert_allclose(fs(data), ref(data), rtol=1e-6)
    assert fs.preprocessors["c"].get_vocabulary() == ["[UNK]", "a", "c", "b"]


def _heart(n=48):
    rng = np.random.default_rng(0)
    x = {"age": rng.uniform(20, 70, n).astype("float32"), "sex": rng.integers(0, 2, n),
         "thal": rng.choice(["fixed", "normal", "reversible"], n)}
    return x, rng.integers(0, 2, n).astype("float32")


def _heart_space():
    return FS({"age": "float_normalized", "sex": "integer_categorical",
               "thal": "string_categorical"},
              crosses=[FS.cross(("sex", "thal"), crossing_dim=8)], output_mode="concat")


def test_fit_on_raw_dicts_and_on_the_preprocessed_stream():
    """Keras' structured-data tutorial: an inference model on raw dicts (the
    FeatureSpace runs in the input pipeline) and a training model on `fs(x)`."""
    x, y = _heart()
    fs = _heart_space()
    fs.adapt(x)
    encoded = fs.get_encoded_features()
    assert encoded.shape == (None, 1 + 3 + 4 + 8)
    hidden = kerax.layers.Dense(4, activation="relu")(encoded)
    out = kerax.layers.Dense(1, activation="sigmoid")(hidden)
    training_model = kerax.Model(encoded, out)
    inference_model = kerax.Model(fs.get_inputs(), out)
    training_model.compile("adam", "binary_crossentropy")
    # kerax's `ds.map(lambda x, y: (feature_space(x), y))`: map over the batches
    batches = [({k: v[i:i + 16] for k, v in x.items()}, y[i:i + 16]) for i in range(0, 48, 16)]
    history = training_model.fit(map(lambda b: (fs(b[0]), b[1]), batches), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    np.testing.assert_allclose(inference_model.predict(x, verbose=0),
                               training_model.predict(fs(x), verbose=0), rtol=1e-5, atol=1e-6)
    inference_model.compile("adam", "binary_crossentropy")
    history = inference_model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2


def test_single_example_dict_mode_drops_the_batch():
    fs = _heart_space()
    fs.adapt(_heart()[0])
    fs.output_mode = "dict"
    out = fs({"age": 50.0, "sex": 1, "thal": "normal"})
    assert {k: v.shape for k, v in out.items()} == {
        "age": (1,), "sex": (3,), "thal": (4,), "sex_X_thal": (8,)}


@pytest.mark.parametrize("make, match", [
    (lambda: FS({}), "cannot be None or empty"),
    (lambda: FS({"a": "floaty"}), "Invalid feature type: floaty"),
    (lambda: FS({"a": "float"}, output_mode="stack"), "Expected one of {'dict', 'concat'}"),
    (lambda: FS({"a": "float"}, crosses=[("a", "b")]),
     r"Received unknown features: \('a', 'b'\)"),
    (lambda: FS.cross(("a", "b"), 4, output_mode="multi_hot"), "Expected one of {'int', 'one_hot'}"),
    (lambda: FS.feature("float32", kerax.layers.Identity(), "dense"),
     "Expected one of {'int', 'one_hot', 'float'}"),
])
def test_bad_arguments_say_what_is_expected(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_bad_data_says_what_is_wrong():
    fs = FS({"x": "float_normalized", "c": "string_categorical"})
    with pytest.raises(ValueError, match=r"call `.adapt\(dataset\)` on the FeatureSpace"):
        fs({"x": [1.0], "c": ["a"]})
    with pytest.raises(ValueError, match="a dict of arrays/lists, a pandas DataFrame"):
        fs.adapt(np.zeros(3))
    with pytest.raises(ValueError, match=r"no column for the features \['c'\]"):
        fs.adapt({"x": [1.0]})
    with pytest.raises(ValueError, match="each batch of the stream must be a dict"):
        fs.adapt(iter([np.zeros(2)]))
    fs.adapt({"x": [0.0, 1.0], "c": ["a", "b"]})
    with pytest.raises(ValueError, match="can only be called with a dict"):
        fs(np.zeros(2))
    with pytest.raises(ValueError, match=r"received unknown features \['label'\]"):
        fs({"x": [1.0], "c": ["a"], "label": [1]})
    with pytest.raises(ValueError, match=r"is missing the features \['c'\] in its input"):
        fs({"x": [1.0]})


def test_unencoded_features_cannot_be_concatenated():
    fs = FS({"c": FS.string_categorical(output_mode="int"), "x": "float"})
    fs.adapt({"c": ["a"], "x": [1.0]})
    with pytest.raises(ValueError, match="feature 'c' has not been encoded .* int"):
        fs({"c": ["a"], "x": [1.0]})
    custom = FS({"x": FS.feature("int32", kerax.layers.Identity(), "one_hot")})
    with pytest.raises(ValueError, match="dimensionality of its output space is not known"):
        custom({"x": [1]})
    encoded = FS({"x": FS.feature("int32", kerax.layers.CategoryEncoding(3), "one_hot")})
    with pytest.raises(ValueError, match="should return an integer dtype. Instead it returns "
                                         "a float32 dtype"):
        encoded({"x": [1]})


class _Batches(kerax.utils.PyDataset):
    def __init__(self, x, y, size):
        super().__init__()
        self.x, self.y, self.size = x, y, size

    def __len__(self):
        return len(self.y) // self.size

    def __getitem__(self, i):
        cut = slice(i * self.size, (i + 1) * self.size)
        return {k: v[cut] for k, v in self.x.items()}, self.y[cut]


def test_model_on_raw_dict_streams_saves_and_loads(tmp_path):
    x, y = _heart()
    fs = _heart_space()
    fs.adapt(x)
    out = kerax.layers.Dense(1, activation="sigmoid")(fs.get_encoded_features())
    model = kerax.Model(fs.get_inputs(), out)
    model.compile("adam", "binary_crossentropy")
    history = model.fit(_Batches(x, y, 16), epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    assert model.predict(_Batches(x, y, 16), verbose=0).shape == (48, 1)
    model.save(tmp_path / "m.keras")
    loaded = kerax.models.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)


def test_adapt_on_a_stream_of_single_examples_batches_them_by_32():
    """Keras batches an unbatched dataset by 32 before adapting (the quantiles of
    `float_discretized` depend on the batches)."""
    case = next(c for c in CASES if c["id"] == "all_types_concat")
    rows = [{k: v[i] for k, v in case["adapt"].items()} for i in range(8)]
    fs = FS(features={k: v for k, v in build(case).features.items()},
            crosses=[tuple(c) for c in case["crosses"]], **case["kwargs"])
    fs.adapt(iter(rows))
    np.testing.assert_allclose(fs(inputs(case)), build(case)(inputs(case)), rtol=1e-6)


def test_dict_mode_in_a_model_trains_in_the_pipeline():
    """Keras' "dict" pattern: each encoded feature used on its own (an int feature through
    an Embedding); `fit` runs the FeatureSpace in the input pipeline."""
    x, y = _heart()
    fs = FS({"age": "float_normalized", "thal": FS.string_categorical(output_mode="int")},
            output_mode="dict")
    fs.adapt(x)
    enc = fs.get_encoded_features()
    emb = kerax.layers.Flatten()(kerax.layers.Embedding(10, 4)(enc["thal"]))
    out = kerax.layers.Dense(1)(kerax.layers.concatenate([enc["age"], emb]))
    model = kerax.Model(fs.get_inputs(), out)
    model.compile("adam", "mse")
    data = {k: x[k] for k in ("age", "thal")}
    assert len(model.fit(data, y, batch_size=16, epochs=2, verbose=0).history["loss"]) == 2
    rest = kerax.Model(enc, out)  # the layers after the FeatureSpace, on its outputs
    np.testing.assert_allclose(model.predict(data, verbose=0),
                               rest.predict(fs(data), verbose=0), rtol=1e-5, atol=1e-6)


def test_utils_namespace_binds_feature_space_without_reaching_up():
    """`kerax.utils.FeatureSpace` is Keras' public name; the `kerax.utils` package (below
    `layers` and `saving`) neither imports nor looks up the module above it: the top-level
    package binds the class into the namespace, in a fresh interpreter too."""
    utils = kerax.utils
    assert "FeatureSpace" in vars(utils) and "__getattr__" not in vars(utils)
    assert utils.FeatureSpace is FS and "FeatureSpace" in utils.__all__
    with open(utils.__file__, encoding="utf-8") as f:
        assert "feature_space" not in f.read()
    code = ("from kerax.utils import FeatureSpace; import kerax.utils.feature_space as m; "
            "assert FeatureSpace is m.FeatureSpace")
    subprocess.run([sys.executable, "-c", code], check=True,
                   cwd=os.path.join(os.path.dirname(__file__), os.pardir, os.pardir))
