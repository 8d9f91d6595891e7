"""A model built on a FeatureSpace (Keras' tutorial: `Model(fs.get_inputs(),
head(fs.get_encoded_features()))`) is Keras' graph of the FeatureSpace's own layers, so
its `.keras` file goes both ways.

`goldens/feature_space_model.keras` and `.json` were written by Keras 3 on TensorFlow
(`goldens/make_feature_space_model_goldens.py keras`); the same script checks, with Keras
on TensorFlow, that Keras loads the file kerax writes and predicts the same values
(`kerax` then `check`; CI never installs TensorFlow). Here: Keras' file loads in kerax and
predicts Keras' values, and kerax's file has Keras' layers, nodes and weight layout.
"""

import io
import json
import os
import sys
import zipfile

import h5py
import numpy as np
import pytest

import kerax

GOLDENS = os.path.join(os.path.dirname(__file__), os.pardir, "layers", "preprocessing",
                       "goldens")
sys.path.insert(0, GOLDENS)
from make_feature_space_model_goldens import INPUTS, MODELS, build  # noqa: E402

KERAS_FILE = os.path.join(GOLDENS, "feature_space_model.keras")
X = {k: np.array(v) for k, v in INPUTS.items()}
# (`feature_space_cross_model`: crosses, whose `HashedCrossing` runs in the compiled step)
STEMS = list(MODELS)


def _file(stem):
    return os.path.join(GOLDENS, stem + ".keras")


def _record(stem):
    with open(os.path.join(GOLDENS, stem + ".json")) as f:
        return json.load(f)


def _build(stem="feature_space_model"):
    """The model, with the auto-generated names of a fresh session, as Keras' file has."""
    kerax.utils.clear_session()
    return build(kerax, MODELS[stem])


@pytest.mark.parametrize("stem", STEMS)
def test_keras_file_loads_and_predicts_keras_values(stem):
    model = kerax.models.load_model(_file(stem))
    want = _record(stem)["outputs"]
    np.testing.assert_allclose(model.predict(X, verbose=0), want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model(X), want, rtol=1e-5, atol=1e-6)
    columns = {k: v[:, 0] for k, v in X.items()}  # one value per example, as Keras takes
    np.testing.assert_allclose(model.predict(columns, verbose=0), want, rtol=1e-5, atol=1e-6)


def _graph(path):
    """The layers (name, class, module, inbound references), inputs and outputs."""
    with zipfile.ZipFile(path) as z:
        config = json.loads(z.read("config.json"))["config"]
    layers = [(l["name"], l["class_name"], l["module"],
               [_refs(n["args"]) for n in l["inbound_nodes"]]) for l in config["layers"]]
    return layers, config["input_layers"], config["output_layers"]


def _refs(args):
    if isinstance(args, dict):
        return args["config"]["keras_history"]
    return [_refs(a) for a in args]


def _weights(path):
    with zipfile.ZipFile(path) as z:
        names = sorted(n for n in z.namelist() if n.startswith("assets/"))
        with h5py.File(io.BytesIO(z.read("model.weights.h5")), "r") as h5:
            shapes = {}
            h5.visititems(lambda n, o: shapes.setdefault(n, getattr(o, "shape", None)))
    return names, shapes


@pytest.mark.parametrize("stem", STEMS)
def test_kerax_file_has_keras_graph_and_weight_layout(tmp_path, stem):
    model = _build(stem)
    model.save(tmp_path / "m.keras")
    ours, theirs = _graph(tmp_path / "m.keras"), _graph(_file(stem))
    assert [l[:3] for l in ours[0]] == [l[:3] for l in theirs[0]]
    assert json.dumps([l[3] for l in ours[0]]) == json.dumps([l[3] for l in theirs[0]])
    assert ours[1:] == theirs[1:]
    assert _weights(tmp_path / "m.keras") == _weights(_file(stem))
    loaded = kerax.models.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(loaded.predict(X, verbose=0), model.predict(X, verbose=0),
                               rtol=1e-6)


@pytest.mark.parametrize("stem", STEMS)
def test_keras_weights_give_keras_outputs_in_a_kerax_built_model(stem):
    model = _build(stem)
    model.load_weights(_file(stem))
    np.testing.assert_allclose(model.predict(X, verbose=0), _record(stem)["outputs"],
                               rtol=1e-5, atol=1e-6)


def test_summary_lists_the_feature_space_layers_as_keras(capsys):
    _build().summary(line_length=150)
    text = capsys.readouterr().out
    names = [l[0] for l in _graph(KERAS_FILE)[0]]
    rows = [line.split("│")[1].split()[0] for line in text.splitlines()
            if line.startswith("│") and "(" in line.split("│")[2]]
    assert rows == names


def test_crosses_run_in_the_compiled_step_and_train():
    """The crosses hash the lookups' ids inside `fit`'s step, equal to the host hash."""
    FS = kerax.utils.FeatureSpace
    fs = FS({"c": "string_categorical", "i": "integer_categorical"}, crosses=[("c", "i")],
            crossing_dim=4)
    data = {"c": np.array(["a", "b", "q", "a"]), "i": np.array([2, 1, 2, 7])}
    fs.adapt(data)
    encoded = fs.get_encoded_features()
    model = kerax.Model(fs.get_inputs(), kerax.layers.Dense(1)(encoded))
    assert "HashedCrossing" in [type(l).__name__ for l in model.layers]
    assert "FeatureSpace" not in [type(l).__name__ for l in model.layers]
    features = kerax.Model(fs.get_inputs(), encoded).predict(data, verbose=0)
    np.testing.assert_array_equal(features, np.asarray(fs(data)))
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(data, np.ones((4, 1)), epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()


@pytest.mark.parametrize("mode", ["concat", "dict"])
def test_unencoded_int_features_raise_as_keras(mode):
    FS = kerax.utils.FeatureSpace
    fs = FS({"c": FS.string_categorical(output_mode="int"), "x": "float"}, output_mode=mode)
    fs.adapt({"c": ["a"], "x": [1.0]})
    if mode == "dict":
        assert fs.get_encoded_features()["c"].dtype.startswith("int")
        return
    with pytest.raises(ValueError, match="Cannot concatenate features because feature 'c' "
                                         "has not been encoded .*int"):
        fs.get_encoded_features()
