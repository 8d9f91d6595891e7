"""Writes `feature_space_goldens.json` and `feature_space.keras`: Keras 3's FeatureSpace
on TensorFlow over a fixed set of cases.

kerax's `utils.FeatureSpace` is compared with these by `test_feature_space_goldens.py`;
CI never installs TensorFlow. To regenerate (in a throwaway environment):

    python -m venv /tmp/tfenv && /tmp/tfenv/bin/pip install tensorflow-cpu keras
    KERAS_BACKEND=tensorflow /tmp/tfenv/bin/python \
        tests/layers/preprocessing/goldens/make_feature_space_goldens.py

Each case: the `features` (a type name, or `["@float_rescaled", kwargs]` for a
`FeatureSpace.<type>(**kwargs)` constructor), `crosses` (lists of names, or
`["@cross", kwargs]`), the FeatureSpace arguments, the `adapt` data (a dict of columns;
`adapt_batch`: adapt on the dataset batched by that size) and the inputs (a dict of
columns, `"single"`: one example of scalars). Recorded: the output (a list, or a dict of
lists), its dtype and shape, and `get_config()`.
"""

import json
import os

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
FS = keras.utils.FeatureSpace

DATA = {
    "float_values": [0.0, 0.1, 0.2, 0.3, 2.5, -1.0, 0.7],
    "string_values": ["zero", "one", "two", "three", "one", "one", "two"],
    "int_values": [0, 1, 2, 3, 1, 1, 7],
}
WIDE = {
    "f": [0.5, 1.5, -2.0, 3.25, 0.0, 1.0, 9.0, 4.0],
    "fr": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0],
    "fn": [10.0, 12.0, 9.0, 11.0, 15.0, 10.0, 8.0, 13.0],
    "fd": [0.1, 0.4, 0.35, 0.8, 0.9, 0.05, 0.6, 0.2],
    "ic": [3, 5, 5, 9, 3, 3, 11, 5],
    "sc": ["a", "b", "b", "c", "a", "a", "zz", "Ü"],
    "sh": ["x", "y", "zzz", "x", "q", "r", "é", ""],
    "ih": [100, 200, 300, 100, -5, 0, 7, 123456789],
}
WIDE_FEATURES = {
    "f": "float",
    "fr": ["@float_rescaled", {"scale": 2.0, "offset": 1.0}],
    "fn": "float_normalized",
    "fd": ["@float_discretized", {"num_bins": 4}],
    "ic": ["@integer_categorical", {"max_tokens": 4}],
    "sc": ["@string_categorical", {"num_oov_indices": 2}],
    "sh": ["@string_hashed", {"num_bins": 8}],
    "ih": ["@integer_hashed", {"num_bins": 6}],
}
QUERY = {k: v[:3] + [v[-1]] for k, v in WIDE.items()}
QUERY["sc"] = ["a", "unseen", "c", "b"]
QUERY["ic"] = [3, 4, 9, 99]


def C(id, features, inputs, adapt=None, crosses=None, adapt_batch=None, **kwargs):
    return dict(id=id, features=features, inputs=inputs, adapt=adapt, crosses=crosses,
                adapt_batch=adapt_batch, kwargs=kwargs)


CASES = [
    C("docstring_concat", {"float_values": "float_normalized",
                           "string_values": "string_categorical",
                           "int_values": "integer_categorical"},
      DATA, adapt=DATA, crosses=[["string_values", "int_values"]], output_mode="concat"),
    C("docstring_single", {"float_values": "float_normalized",
                           "string_values": "string_categorical",
                           "int_values": "integer_categorical"},
      "single", adapt=DATA, crosses=[["string_values", "int_values"]], output_mode="concat"),
    C("docstring_single_dict", {"float_values": "float_normalized",
                                "string_values": "string_categorical",
                                "int_values": "integer_categorical"},
      "single", adapt=DATA, crosses=[["string_values", "int_values"]], output_mode="dict"),
    C("all_types_dict", WIDE_FEATURES, QUERY, adapt=WIDE, output_mode="dict",
      crosses=[["sc", "ic"], ["@cross", {"feature_names": ["sh", "ih"], "crossing_dim": 5,
                                         "output_mode": "int"}]]),
    C("all_types_concat", WIDE_FEATURES, QUERY, adapt=WIDE, output_mode="concat",
      crosses=[["sc", "ic"], ["fd", "sc"]], crossing_dim=7),
    C("all_types_batched_adapt", WIDE_FEATURES, QUERY, adapt=WIDE, adapt_batch=3,
      output_mode="concat"),
    C("int_modes_dict", {
        "sc": ["@string_categorical", {"output_mode": "int"}],
        "ic": ["@integer_categorical", {"output_mode": "int", "num_oov_indices": 0}],
        "fd": ["@float_discretized", {"num_bins": 3, "output_mode": "int"}],
        "sh": ["@string_hashed", {"num_bins": 4, "output_mode": "int"}],
    }, {"sc": ["a", "q", "b"], "ic": [3, 5, 9], "fd": [0.0, 0.5, 0.99], "sh": ["x", "y", "z"]},
      adapt=WIDE, output_mode="dict",
      crosses=[["@cross", {"feature_names": ["sc", "ic"], "crossing_dim": 10,
                           "output_mode": "int"}]]),
    C("defaults_by_name", {"fd": "float_discretized", "sh": "string_hashed",
                           "ih": "integer_hashed", "fr": "float_rescaled"},
      QUERY, adapt=WIDE, output_mode="concat", hashing_dim=5, num_discretization_bins=3),
    C("no_adapt_needed", {"sh": ["@string_hashed", {"num_bins": 4}], "f": "float",
                          "fr": ["@float_rescaled", {"scale": 0.5}]},
      {"sh": ["a", "b", "c"], "f": [1.0, 2.0, 3.0], "fr": [4.0, 5.0, 6.0]}),
    # Keras' docstring example: your own preprocessing layer (TF-IDF text); in "concat"
    # mode Keras fails on it (its (batch, 1, vocabulary) output), so "dict" here
    C("custom_text_tfidf", {"text": ["@text_tfidf", {}], "n": "float"},
      {"text": ["1st string", "2nd string here", "new words"], "n": [1.0, 2.0, 3.0]},
      adapt={"text": ["1st string", "2nd string", "3rd string", "2nd again"],
             "n": [0.0, 1.0, 2.0, 3.0]}, output_mode="dict"),
    # Discretization with given boundaries still has `adapt`: Keras asks for it
    C("discretized_boundaries_unadapted", {
        "fd": ["@float_discretized", {"num_bins": None, "bin_boundaries": [0.2, 0.5]}]},
      {"fd": [0.0, 0.3, 0.6]}),
]


def _feature(value):
    if isinstance(value, list) and value[0] == "@text_tfidf":
        return FS.feature(dtype="string", output_mode="float",
                          preprocessor=keras.layers.TextVectorization(output_mode="tf_idf"))
    if isinstance(value, list):
        return getattr(FS, value[0][1:])(**value[1])
    return value


def _cross(value):
    if value[0] == "@cross":
        return FS.cross(**value[1])
    return tuple(value)


def _jsonable(x):
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, bytes):
        return x.decode("utf-8")
    if isinstance(x, np.ndarray):
        return _jsonable(x.tolist())
    if isinstance(x, np.generic):
        return _jsonable(x.item())
    return x


def build(case):
    fs = FS(features={k: _feature(v) for k, v in case["features"].items()},
            crosses=[_cross(c) for c in case["crosses"]] if case["crosses"] else None,
            **case["kwargs"])
    if case["adapt"] is not None:
        data = {k: case["adapt"][k] for k in case["features"]}
        ds = tf.data.Dataset.from_tensor_slices(data)
        fs.adapt(ds.batch(case["adapt_batch"]) if case["adapt_batch"] else ds)
    return fs


def _inputs(case):
    if case["inputs"] == "single":
        return {k: case["adapt"][k][1] for k in case["features"]}
    return {k: np.asarray(case["inputs"][k]) for k in case["features"]}


def _record(y):
    y = np.asarray(y)
    return {"value": _jsonable(y), "dtype": str(y.dtype), "shape": list(y.shape)}


def run_case(case):
    out = dict(case)
    fs = build(case)
    try:
        y = fs(_inputs(case))
    except ValueError as e:  # recorded: kerax must raise the same
        out["error"] = str(e)
        return out
    out["output"] = ({k: _record(v) for k, v in y.items()} if isinstance(y, dict)
                     else _record(y))
    out["config"] = _jsonable(fs.get_config())
    return out


def save_file():
    case = next(c for c in CASES if c["id"] == "all_types_dict")
    fs = build(case)
    fs.save(os.path.join(HERE, "feature_space.keras"))
    y = fs(_inputs(case))
    return {k: _jsonable(np.asarray(v)) for k, v in y.items()}


def main():
    doc = {"keras": keras.__version__, "tensorflow": tf.__version__,
           "cases": [run_case(c) for c in CASES], "saved_file_output": save_file()}
    with open(os.path.join(HERE, "feature_space_goldens.json"), "w") as f:
        json.dump(doc, f, indent=1, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
