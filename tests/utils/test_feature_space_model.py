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
from make_feature_space_model_goldens import INPUTS, build  # noqa: E402

KERAS_FILE = os.path.join(GOLDENS, "feature_space_model.keras")
with open(os.path.join(GOLDENS, "feature_space_model.json")) as f:
    RECORD = json.load(f)
X = {k: np.array(v) for k, v in INPUTS.items()}


def _build():
    """The model, with the auto-generated names of a fresh session, as Keras' file has."""
    kerax.utils.clear_session()
    return build(kerax)


def test_keras_file_loads_and_predicts_keras_values():
    model = kerax.models.load_model(KERAS_FILE)
    np.testing.assert_allclose(model.predict(X, verbose=0), RECORD["outputs"], rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_allclose(model(X), RECORD["outputs"], rtol=1e-5, atol=1e-6)
    columns = {k: v[:, 0] for k, v in X.items()}  # one value per example, as Keras takes
    np.testing.assert_allclose(model.predict(columns, verbose=0), RECORD["outputs"],
                               rtol=1e-5, atol=1e-6)


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


def test_kerax_file_has_keras_graph_and_weight_layout(tmp_path):
    model = _build()
    model.save(tmp_path / "m.keras")
    ours, theirs = _graph(tmp_path / "m.keras"), _graph(KERAS_FILE)
    assert [l[:3] for l in ours[0]] == [l[:3] for l in theirs[0]]
    assert json.dumps([l[3] for l in ours[0]]) == json.dumps([l[3] for l in theirs[0]])
    assert ours[1:] == theirs[1:]
    assert _weights(tmp_path / "m.keras") == _weights(KERAS_FILE)
    loaded = kerax.models.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(loaded.predict(X, verbose=0), model.predict(X, verbose=0),
                               rtol=1e-6)


def test_keras_weights_give_keras_outputs_in_a_kerax_built_model():
    model = _build()
    model.load_weights(KERAS_FILE)
    np.testing.assert_allclose(model.predict(X, verbose=0), RECORD["outputs"], rtol=1e-5,
                               atol=1e-6)


def test_summary_lists_the_feature_space_layers_as_keras(capsys):
    _build().summary(line_length=150)
    text = capsys.readouterr().out
    names = [l[0] for l in _graph(KERAS_FILE)[0]]
    rows = [line.split("│")[1].split()[0] for line in text.splitlines()
            if line.startswith("│") and "(" in line.split("│")[2]]
    assert rows == names


def test_a_feature_space_with_crosses_stays_one_host_node():
    """kerax runs a `HashedCrossing` of lookup outputs only on the host: with crosses the
    encoded features are the FeatureSpace's own output (Keras cannot load that file)."""
    FS = kerax.utils.FeatureSpace
    fs = FS({"c": "string_categorical", "i": "integer_categorical"}, crosses=[("c", "i")],
            crossing_dim=4)
    fs.adapt({"c": ["a", "b"], "i": [1, 2]})
    model = kerax.Model(fs.get_inputs(), kerax.layers.Dense(1)(fs.get_encoded_features()))
    assert [type(l).__name__ for l in model.layers][-2:] == ["FeatureSpace", "Dense"]
    assert model.predict({"c": np.array(["a", "q"]), "i": np.array([2, 1])},
                         verbose=0).shape == (2, 1)


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
