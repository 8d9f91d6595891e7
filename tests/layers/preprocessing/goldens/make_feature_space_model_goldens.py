"""A model built on a FeatureSpace, both ways between Keras 3 (on TensorFlow) and kerax.

Keras' tutorial builds the end-to-end model on the FeatureSpace's symbolic features,
`keras.Model(fs.get_inputs(), head(fs.get_encoded_features()))`: its graph is the
FeatureSpace's own layers (lookups, `Normalization`, `CategoryEncoding`, `TFDConcat`).

    # Keras on TensorFlow writes feature_space_model.keras and its outputs (committed):
    KERAS_BACKEND=tensorflow /tmp/tfenv/bin/python \
        tests/layers/preprocessing/goldens/make_feature_space_model_goldens.py keras
    # kerax writes the same model (its own weights) to a folder ...
    python tests/layers/preprocessing/goldens/make_feature_space_model_goldens.py \
        kerax /tmp/kx
    # ... and Keras on TensorFlow loads it and compares the outputs (exits non-zero if not)
    KERAS_BACKEND=tensorflow /tmp/tfenv/bin/python \
        tests/layers/preprocessing/goldens/make_feature_space_model_goldens.py check /tmp/kx

`test_feature_space_model.py` loads the committed Keras file in kerax and compares the
file kerax writes with it (CI never installs TensorFlow).
"""

import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = {"x": [0.5, 1.5, -2.0, 3.0], "c": ["a", "b", "b", "zz"], "i": [3, 5, 5, 9],
        "f": [1.0, 2.0, 3.0, 4.0], "h": ["p", "q", "r", "s"]}
INPUTS = {"x": [[1.0], [0.0], [-3.0]], "c": [["b"], ["new"], ["zz"]], "i": [[5], [7], [3]],
          "f": [[2.0], [-1.0], [0.5]], "h": [["q"], ["t"], ["p"]]}


# file stem -> the FeatureSpace's crosses (the tutorial crosses categorical features)
MODELS = {"feature_space_model": [], "feature_space_cross_model": [("c", "i"), ("h", "c")]}


def build(keras, crosses=()):
    """The FeatureSpace, adapted, and the model Keras' tutorial builds on it."""
    FS = keras.utils.FeatureSpace
    fs = FS({"x": "float_normalized", "c": "string_categorical", "i": "integer_categorical",
             "f": "float", "h": FS.string_hashed(num_bins=4)}, output_mode="concat",
            crosses=[FS.cross(c, crossing_dim=8) for c in crosses])
    fs.adapt(DATA)
    hidden = keras.layers.Dense(4, activation="relu", name="hidden")(fs.get_encoded_features())
    return keras.Model(fs.get_inputs(), keras.layers.Dense(1, name="head")(hidden))


def _keras():
    import keras
    import tensorflow as tf

    for stem, crosses in MODELS.items():
        keras.utils.clear_session()  # each file with a fresh session's layer names
        keras.utils.set_random_seed(1)
        model = build(keras, crosses)
        model.save(os.path.join(HERE, stem + ".keras"))
        out = model({k: tf.constant(v) for k, v in INPUTS.items()}).numpy()
        with open(os.path.join(HERE, stem + ".json"), "w") as f:
            json.dump({"keras": keras.__version__, "tensorflow": tf.__version__,
                       "inputs": INPUTS, "outputs": out.tolist()}, f)
            f.write("\n")


def _kerax(out_dir):
    import kerax

    os.makedirs(out_dir, exist_ok=True)
    for stem, crosses in MODELS.items():
        kerax.utils.clear_session()
        model = build(kerax, crosses)
        model.save(os.path.join(out_dir, stem + ".keras"))
        out = model.predict({k: np.array(v) for k, v in INPUTS.items()}, verbose=0)
        with open(os.path.join(out_dir, stem + ".json"), "w") as f:
            json.dump({"inputs": INPUTS, "outputs": out.tolist()}, f)


def _check(out_dir):
    import keras
    import tensorflow as tf

    ok = True
    for stem in MODELS:
        with open(os.path.join(out_dir, stem + ".json")) as f:
            record = json.load(f)
        model = keras.saving.load_model(os.path.join(out_dir, stem + ".keras"))
        got = model({k: tf.constant(v) for k, v in record["inputs"].items()}).numpy()
        same = np.allclose(got, record["outputs"], rtol=1e-6, atol=1e-7)
        ok = ok and same
        print(f"{stem}: {'ok' if same else 'MISMATCH'} {got.ravel()} "
              f"{np.ravel(record['outputs'])}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    if sys.argv[1] == "keras":
        os.environ.setdefault("KERAS_BACKEND", "tensorflow")
        _keras()
    elif sys.argv[1] == "check":
        os.environ.setdefault("KERAS_BACKEND", "tensorflow")
        _check(sys.argv[2])
    else:
        _kerax(sys.argv[2])
