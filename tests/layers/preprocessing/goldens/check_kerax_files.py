"""Checks that Keras 3 on TensorFlow loads the `.keras` files kerax writes for its string
layers and gives the same outputs (the direction CI cannot run: it needs TensorFlow).

    python tests/layers/preprocessing/goldens/check_kerax_files.py write /tmp/kx
    KERAS_BACKEND=tensorflow /tmp/tfenv/bin/python \
        tests/layers/preprocessing/goldens/check_kerax_files.py check /tmp/kx

`write` (with kerax) saves adapted models (and an adapted `utils.FeatureSpace`) and
their outputs; `check` (with Keras on
TensorFlow, no kerax) loads each file and compares the outputs; it prints one line per
model and exits non-zero on a mismatch.
"""

import json
import os
import sys

import numpy as np

TEXT = ["The cat sat.", "A dog, a cat!", "dogs and cats", "Ünïcödé café"]
INPUTS = [["the cat"], ["y"], ["dogs, a cat sat"], ["café q"]]


def write(out_dir):
    import kerax

    layers = kerax.layers
    os.makedirs(out_dir, exist_ok=True)
    # (not pad_to_max_tokens: Keras cannot reload its own padded TF-IDF layer either)
    tfidf = layers.TextVectorization(output_mode="tf_idf", ngrams=2, max_tokens=30)
    tfidf.adapt(TEXT)
    seq = layers.TextVectorization(output_sequence_length=5, name="seq")
    seq.adapt(TEXT)
    fixed = layers.TextVectorization(vocabulary=["cat", "dog"], output_mode="count")
    lookup = layers.StringLookup(num_oov_indices=2, mask_token="", salt=3)
    lookup.adapt(np.array(["x", "y", "y", "z"]))
    x = kerax.Input(shape=(1,), dtype="string")
    model = kerax.Model(x, [tfidf(x), seq(x), fixed(x), lookup(x)])
    ints = kerax.Input(shape=(3,), dtype="int64")
    il = layers.IntegerLookup(output_mode="multi_hot")
    il.adapt(np.array([3, 3, 9, 1]))
    int_model = kerax.Model(ints, il(ints))
    records = {}
    for name, m, inputs in (("text", model, np.array(INPUTS)),
                            ("int", int_model, np.array([[3, 9, 5], [1, 1, 3]]))):
        m.save(os.path.join(out_dir, f"{name}.keras"))
        outs = m(inputs)
        outs = outs if isinstance(outs, (list, tuple)) else [outs]
        records[name] = {"inputs": inputs.tolist(),
                         "outputs": [np.asarray(o).tolist() for o in outs]}
    records["feature_space"] = _write_feature_space(kerax, out_dir)
    with open(os.path.join(out_dir, "outputs.json"), "w") as f:
        json.dump(records, f)


FS_DATA = {"x": [0.5, 1.5, -2.0, 3.0], "c": ["a", "b", "b", "zz"], "i": [3, 5, 5, 9],
           "h": ["p", "q", "r", "s"]}
FS_INPUTS = {"x": [1.0, 0.0], "c": ["b", "new"], "i": [5, 7], "h": ["q", "t"]}


def _write_feature_space(kerax, out_dir):
    """A FeatureSpace with every kind of state (statistics, quantiles, vocabularies)."""
    FS = kerax.utils.FeatureSpace
    fs = FS({"x": "float_normalized", "c": "string_categorical", "i": "integer_categorical",
             "h": FS.string_hashed(num_bins=4), "d": FS.float_discretized(num_bins=3)},
            crosses=[("c", "i")], crossing_dim=5, output_mode="dict")
    fs.adapt({**FS_DATA, "d": FS_DATA["x"]})
    fs.save(os.path.join(out_dir, "feature_space.keras"))
    out = fs({**{k: np.asarray(v) for k, v in FS_INPUTS.items()},
              "d": np.asarray(FS_INPUTS["x"])})
    return {"inputs": "FS_INPUTS", "outputs": {k: np.asarray(v).tolist() for k, v in out.items()}}


def check(out_dir):
    import keras

    with open(os.path.join(out_dir, "outputs.json")) as f:
        records = json.load(f)
    failed = False
    fs_record = records.pop("feature_space")
    fs = keras.saving.load_model(os.path.join(out_dir, "feature_space.keras"))
    out = fs({**{k: np.asarray(v) for k, v in FS_INPUTS.items()},
              "d": np.asarray(FS_INPUTS["x"])})
    for key, want in fs_record["outputs"].items():
        ok = np.allclose(np.asarray(out[key], np.float64), np.asarray(want, np.float64),
                         rtol=1e-6, atol=1e-7)
        failed = failed or not ok
        print(f"feature_space {key}: {'ok' if ok else 'MISMATCH'}")
    for name, rec in records.items():
        model = keras.saving.load_model(os.path.join(out_dir, f"{name}.keras"))
        outs = model(np.array(rec["inputs"]))
        outs = outs if isinstance(outs, (list, tuple)) else [outs]
        for i, (got, want) in enumerate(zip(outs, rec["outputs"])):
            ok = np.allclose(np.asarray(got, np.float64), np.asarray(want, np.float64),
                             rtol=1e-6, atol=1e-7)
            failed |= not ok
            print(f"{name} output {i}: {'ok' if ok else 'MISMATCH'}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    {"write": write, "check": check}[sys.argv[1]](sys.argv[2])
