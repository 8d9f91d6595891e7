"""kerax's `utils.FeatureSpace` against Keras 3's on TensorFlow, case for case.

The goldens were written by `tests/layers/preprocessing/goldens/make_feature_space_goldens.py`
(Keras 3 on TensorFlow, in a throwaway environment); CI never installs TensorFlow. Each
case builds the FeatureSpace in kerax with the same features and crosses, adapts it on the
same columns (in the same batches) and calls it on the same inputs; the outputs (values,
shape, dtype) and `get_config()` must match, and errors must be the same.
"""

import json
import re
import os

import numpy as np
import pytest

import kerax

GOLDENS = os.path.join(os.path.dirname(__file__), os.pardir, "layers", "preprocessing",
                       "goldens")
with open(os.path.join(GOLDENS, "feature_space_goldens.json")) as f:
    DOC = json.load(f)
CASES = DOC["cases"]
FS = kerax.utils.FeatureSpace


def _feature(value):
    if isinstance(value, list) and value[0] == "@text_tfidf":
        return FS.feature(dtype="string", output_mode="float",
                          preprocessor=kerax.layers.TextVectorization(output_mode="tf_idf"))
    if isinstance(value, list):
        return getattr(FS, value[0][1:])(**value[1])
    return value


def _cross(value):
    if value[0] == "@cross":
        return FS.cross(**value[1])
    return tuple(value)


def _batches(columns, size):
    n = len(next(iter(columns.values())))
    return ({k: np.asarray(v[i:i + size]) for k, v in columns.items()}
            for i in range(0, n, size))


def build(case):
    fs = FS(features={k: _feature(v) for k, v in case["features"].items()},
            crosses=[_cross(c) for c in case["crosses"]] if case["crosses"] else None,
            **case["kwargs"])
    if case["adapt"] is not None:
        data = {k: case["adapt"][k] for k in case["features"]}
        fs.adapt(_batches(data, case["adapt_batch"]) if case["adapt_batch"] else data)
    return fs


def inputs(case):
    if case["inputs"] == "single":
        return {k: case["adapt"][k][1] for k in case["features"]}
    return {k: np.asarray(case["inputs"][k]) for k in case["features"]}


def _check(got, want, where):
    got = np.asarray(got)
    assert list(got.shape) == want["shape"], where
    assert got.dtype.kind == np.dtype(want["dtype"]).kind, where
    np.testing.assert_allclose(got, np.asarray(want["value"]), rtol=1e-5, atol=1e-6,
                               err_msg=where)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_output_equals_keras(case):
    fs = build(case)
    if "error" in case:
        with pytest.raises(ValueError, match=re.escape(case["error"])):
            fs(inputs(case))
        return
    out = fs(inputs(case))
    if isinstance(case["output"], dict) and "value" not in case["output"]:
        assert sorted(out) == sorted(case["output"])
        for name, want in case["output"].items():
            _check(out[name], want, f"{case['id']}: {name}")
    else:
        _check(out, case["output"], case["id"])


def _strip_names(config):
    """The config without auto-generated layer names (their counters differ by run)."""
    if isinstance(config, dict):
        return {k: _strip_names(v) for k, v in config.items() if k != "name"}
    if isinstance(config, list):
        return [_strip_names(v) for v in config]
    return config


@pytest.mark.parametrize("case", [c for c in CASES if "config" in c],
                         ids=[c["id"] for c in CASES if "config" in c])
def test_config_equals_keras(case):
    fs = build(case)
    fs(inputs(case))
    got = json.loads(json.dumps(kerax.utils.serialize_keras_object(fs.get_config())))
    want = case["config"]
    assert got.keys() == want.keys()
    assert _strip_names(got["crosses"]) == _strip_names(want["crosses"])
    for name, feature in want["features"].items():
        g, w = got["features"][name], feature
        assert {k: g[k] for k in ("module", "class_name", "registered_name")} == \
            {k: w[k] for k in ("module", "class_name", "registered_name")}
        assert g["config"]["dtype"] == w["config"]["dtype"]
        assert g["config"]["output_mode"] == w["config"]["output_mode"]
        gp, wp = g["config"]["preprocessor"], w["config"]["preprocessor"]
        assert (gp["module"], gp["class_name"]) == (wp["module"], wp["class_name"])
        for key in ("num_bins", "max_tokens", "num_oov_indices", "scale", "offset",
                    "vocabulary_size"):
            if key in wp["config"]:
                assert gp["config"][key] == wp["config"][key], (name, key)
        if "bin_boundaries" in wp["config"] and wp["config"]["bin_boundaries"]:
            np.testing.assert_allclose(gp["config"]["bin_boundaries"],
                                       wp["config"]["bin_boundaries"], rtol=1e-6)
    for key in ("output_mode", "crossing_dim", "hashing_dim", "num_discretization_bins"):
        assert got[key] == want[key]
