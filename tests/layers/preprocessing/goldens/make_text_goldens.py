"""Writes `text_goldens.json`: Keras 3 on TensorFlow over a fixed set of string-layer cases.

kerax's StringLookup, IntegerLookup, TextVectorization, Hashing and HashedCrossing are
compared output for output with these goldens by `test_text_goldens.py`; CI never
installs TensorFlow. To regenerate (in a throwaway environment, outside the repository):

    python -m venv /tmp/tfenv && /tmp/tfenv/bin/pip install tensorflow-cpu keras
    KERAS_BACKEND=tensorflow /tmp/tfenv/bin/python \
        tests/layers/preprocessing/goldens/make_text_goldens.py

Each case: a layer class and its arguments, optional `adapt` data (`adapt_batches`: a
list of batches given as a generator), optional `set_vocabulary`, then inputs; recorded:
the output (or the error type), its dtype, `get_vocabulary()`, `vocabulary_size()` and
`get_config()`. Callables are named (`"@name"`); `CALLABLES` holds the TensorFlow version,
the test holds the NumPy one. It also writes `int_lookup_model.keras` (an adapted
IntegerLookup model) and `text_model.keras` (TextVectorization and StringLookup on a
string input), saved by Keras, for the load test; `check_kerax_files.py` loads the
files kerax writes in Keras (the other direction).
"""

import json
import os
import sys

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))

CALLABLES = {
    # standardize callables get a NumPy str array on non-TF backends, a tf string tensor
    # on TensorFlow: these are written for the latter (the test's twins use NumPy).
    "@upper": lambda x: tf.strings.upper(x),
    "@strip_x": lambda x: tf.strings.regex_replace(x, "x", ""),
    "@split_comma": lambda x: tf.strings.split(x, sep=","),
}

TEXT = [
    "The quick brown fox, jumps over the lazy dog!",
    "the THE the. Fox? fox's dog-house",
    "  leading and   trailing\tspaces\nnew line  ",
    "Ünïcödé ÄB École naïve café — ÉCOLE",
    "nbsp\u00a0here ideo\u3000space v\x0btab f\x0cfeed fs\x1csep",
    "",
    "emoji 😀 and 中文字符 mixed; ok: [yes] {no} <maybe> @home #tag $5 100% a&b",
]
TIES = ["b a c", "c b a", "d e", "e d f"]
WORDS = [["a", "b", "c"], ["c", "x", "a"], ["b", "b", "zz"]]


def C(id, layer, kwargs=None, inputs=None, adapt=None, adapt_batches=None,
      set_vocabulary=None, steps=None):
    return dict(id=id, layer=layer, kwargs=kwargs or {}, inputs=inputs, adapt=adapt,
                adapt_batches=adapt_batches, set_vocabulary=set_vocabulary, steps=steps)


CASES = [
    # ---------------------------------------------------------------- TextVectorization --
    C("tv_default", "TextVectorization", {}, [[t] for t in TEXT], adapt=TEXT),
    C("tv_lower", "TextVectorization", dict(standardize="lower"), TEXT, adapt=TEXT),
    C("tv_strip", "TextVectorization", dict(standardize="strip_punctuation"), TEXT,
      adapt=TEXT),
    C("tv_none", "TextVectorization", dict(standardize=None), TEXT, adapt=TEXT),
    C("tv_callable_std", "TextVectorization", dict(standardize="@upper"), TEXT,
      adapt=TEXT),
    C("tv_character", "TextVectorization", dict(split="character"), TEXT, adapt=TEXT),
    C("tv_split_callable", "TextVectorization",
      dict(split="@split_comma", standardize="@strip_x"),
      ["a,b,c", "xa,b", "c,,c"], adapt=["a,b,c", "xa,b", "c,,c"]),
    C("tv_split_none", "TextVectorization", dict(split=None),
      [["a", "b"], ["c", "a"]], adapt=[["a", "b"], ["b", "c"], ["a", "a"]]),
    C("tv_ties", "TextVectorization", {}, TIES, adapt=TIES),
    C("tv_ties_max", "TextVectorization", dict(max_tokens=5), TIES, adapt=TIES),
    C("tv_ngrams2", "TextVectorization", dict(ngrams=2), TEXT[:3], adapt=TEXT[:3]),
    C("tv_ngrams_tuple", "TextVectorization", dict(ngrams=(1, 3)), TEXT[:3],
      adapt=TEXT[:3]),
    C("tv_seq_len_pad", "TextVectorization", dict(output_sequence_length=12), TEXT,
      adapt=TEXT),
    C("tv_seq_len_trunc", "TextVectorization", dict(output_sequence_length=3), TEXT,
      adapt=TEXT),
    C("tv_multi_hot", "TextVectorization", dict(output_mode="multi_hot"), TEXT,
      adapt=TEXT),
    C("tv_count", "TextVectorization", dict(output_mode="count", max_tokens=10), TEXT,
      adapt=TEXT),
    C("tv_count_pad", "TextVectorization",
      dict(output_mode="count", max_tokens=60, pad_to_max_tokens=True), TEXT, adapt=TEXT),
    C("tv_tf_idf", "TextVectorization", dict(output_mode="tf_idf"), TEXT, adapt=TEXT),
    C("tv_tf_idf_pad", "TextVectorization",
      dict(output_mode="tf_idf", max_tokens=40, pad_to_max_tokens=True), TEXT, adapt=TEXT),
    C("tv_tf_idf_ngrams", "TextVectorization", dict(output_mode="tf_idf", ngrams=2),
      TIES, adapt=TIES),
    C("tv_one_hot_nosplit", "TextVectorization",
      dict(output_mode="one_hot", split=None, standardize=None), ["a", "b", "zz"],
      adapt=["a", "b", "b"]),
    C("tv_vocab_list", "TextVectorization", dict(vocabulary=["fox", "the", "dog"]), TEXT),
    C("tv_vocab_tf_idf", "TextVectorization",
      dict(vocabulary=["fox", "the", "dog"], idf_weights=[0.5, 0.25, 2.0],
           output_mode="tf_idf"), TEXT),
    C("tv_adapt_batches", "TextVectorization", {}, TEXT,
      adapt_batches=[TEXT[:2], TEXT[2:5], TEXT[5:]]),
    C("tv_adapt_steps", "TextVectorization", {}, TEXT,
      adapt_batches=[TEXT[:2], TEXT[2:5], TEXT[5:]], steps=2),
    C("tv_set_vocabulary", "TextVectorization", dict(output_mode="multi_hot"), TEXT,
      set_vocabulary=["[UNK]", "dog", "fox"]),
    C("tv_set_vocabulary_int", "TextVectorization", {}, TEXT,
      set_vocabulary=["", "[UNK]", "dog", "fox"]),
    C("tv_scalar", "TextVectorization", {}, "The fox", adapt=TEXT),
    # --------------------------------------------------------------------- StringLookup --
    C("sl_adapt", "StringLookup", {}, WORDS, adapt=WORDS),
    C("sl_vocab", "StringLookup", dict(vocabulary=["a", "b", "c"]), WORDS),
    C("sl_mask", "StringLookup", dict(vocabulary=["a", "b"], mask_token="[M]"),
      [["a", "[M]", "q"], ["b", "b", "[M]"]]),
    C("sl_oov2", "StringLookup", dict(vocabulary=["a", "b"], num_oov_indices=2),
      [["a", "q", "r", "s"], ["b", "xyz", "", "Ü"]]),
    C("sl_oov3_mask", "StringLookup",
      dict(vocabulary=["a", "b"], num_oov_indices=3, mask_token=""),
      [["a", "q", "", "s"], ["b", "xyz", "t", "Ü"]]),
    C("sl_oov_salt", "StringLookup", dict(vocabulary=["a"], num_oov_indices=4, salt=7),
      [["a", "q", "r", "s", "tt", "uuu"]]),
    C("sl_oov_salt_pair", "StringLookup",
      dict(vocabulary=["a"], num_oov_indices=4, salt=(133, 137)),
      [["a", "q", "r", "s", "tt", "uuu"]]),
    C("sl_oov0", "StringLookup", dict(vocabulary=["a", "b"], num_oov_indices=0),
      [["a", "b"]]),
    C("sl_oov0_error", "StringLookup", dict(vocabulary=["a", "b"], num_oov_indices=0),
      [["a", "q"]]),
    C("sl_invert", "StringLookup", dict(vocabulary=["a", "b", "c"], invert=True),
      [[2, 3, 1, 0, 9]]),
    C("sl_invert_mask", "StringLookup",
      dict(vocabulary=["a", "b"], invert=True, mask_token="[M]"), [[0, 1, 2, 3, 7]]),
    C("sl_one_hot", "StringLookup", dict(vocabulary=["a", "b", "c"], output_mode="one_hot"),
      ["a", "c", "q"]),
    C("sl_one_hot_col", "StringLookup",
      dict(vocabulary=["a", "b", "c"], output_mode="one_hot"), [["a"], ["c"], ["q"]]),
    C("sl_multi_hot", "StringLookup",
      dict(vocabulary=["a", "b", "c"], output_mode="multi_hot"), WORDS),
    C("sl_multi_hot_1d", "StringLookup",
      dict(vocabulary=["a", "b", "c"], output_mode="multi_hot"), ["a", "c", "c"]),
    C("sl_count_mask", "StringLookup",
      dict(vocabulary=["a", "b", "c"], output_mode="count", mask_token=""),
      [["a", "", "a"], ["", "zz", "c"]]),
    C("sl_count_pad", "StringLookup",
      dict(vocabulary=["a", "b", "c"], output_mode="count", max_tokens=7,
           pad_to_max_tokens=True), WORDS),
    C("sl_tf_idf_adapt", "StringLookup", dict(output_mode="tf_idf"), WORDS, adapt=WORDS),
    C("sl_tf_idf_vocab", "StringLookup",
      dict(vocabulary=["a", "b", "c"], idf_weights=[0.5, 1.5, 3.0], output_mode="tf_idf"),
      WORDS),
    C("sl_max_tokens", "StringLookup", dict(max_tokens=3), WORDS, adapt=WORDS),
    C("sl_adapt_1d", "StringLookup", {}, ["b", "a", "c", "a"], adapt=["b", "a", "c", "a"]),
    C("sl_vocab_special", "StringLookup",
      dict(vocabulary=["[UNK]", "a", "b"]), [["a", "b", "q"]]),
    C("sl_vocab_unicode", "StringLookup", dict(vocabulary=["Ü", "中", "😀"]),
      [["中", "😀", "ü", "Ü"]]),
    C("sl_scalar", "StringLookup", dict(vocabulary=["a", "b"]), "b"),
    # bytes inputs, some not valid UTF-8 (hex: "inputs_hex" / "adapt_hex")
    dict(C("tv_bytes_character", "TextVectorization", dict(split="character",
                                                          standardize=None)),
         inputs_hex=["61c3a9ff62", "e4b8ad80", "41ed"], adapt_hex=["61c3a9ff62", "e4b8"]),
    dict(C("tv_bytes_whitespace", "TextVectorization", {}),
         inputs_hex=["41ff2062", "c3a920c3"], adapt_hex=["41ff2062", "ff", "c3a9"]),
    dict(C("sl_bytes", "StringLookup", dict(vocabulary=["a", "é"])),
         inputs_hex=["61", "c3a9", "ff", "c3"]),
    C("sl_adapt_batches_tf_idf", "StringLookup", dict(output_mode="tf_idf"), WORDS,
      adapt_batches=[[["a", "b"], ["a", "a"]], [["c", "b"]]]),
    # -------------------------------------------------------------------- IntegerLookup --
    C("il_adapt", "IntegerLookup", {}, [[12, 1138, 42], [42, 1000, 36]],
      adapt=[12, 36, 1138, 42, 42, 7, 7, 1138]),
    C("il_ties", "IntegerLookup", {}, [[3, 1, 2, -5]], adapt=[1, 2, 3, -5, -5, 3, 1, 2]),
    C("il_vocab", "IntegerLookup", dict(vocabulary=[12, 36, 1138, 42]),
      [[12, 1138, 42], [42, 1000, 36]]),
    C("il_mask", "IntegerLookup", dict(vocabulary=[12, 36], mask_token=0),
      [[12, 0, 5], [36, 36, 0]]),
    C("il_oov_floormod", "IntegerLookup", dict(vocabulary=[12, 36], num_oov_indices=3),
      [[12, 7, 8, 9, -1, -7, 1000]]),
    C("il_oov_farmhash", "IntegerLookup",
      dict(vocabulary=[12, 36], num_oov_indices=3, oov_method="farmhash"),
      [[12, 7, 8, 9, -1, -7, 1000]]),
    C("il_oov_farmhash_salt", "IntegerLookup",
      dict(vocabulary=[12, 36], num_oov_indices=3, oov_method="farmhash", salt=11),
      [[12, 7, 8, 9, -1, -7, 1000]]),
    C("il_invert", "IntegerLookup", dict(vocabulary=[12, 36, 1138], invert=True),
      [[1, 2, 3, 0, 9]]),
    C("il_invert_mask", "IntegerLookup",
      dict(vocabulary=[12, 36], invert=True, mask_token=0), [[0, 1, 2, 3, 5]]),
    C("il_multi_hot", "IntegerLookup",
      dict(vocabulary=[12, 36, 1138], output_mode="multi_hot"), [[12, 12, 99], [36, 1138, 5]]),
    C("il_one_hot", "IntegerLookup", dict(vocabulary=[12, 36], output_mode="one_hot"),
      [12, 36, 5]),
    C("il_tf_idf", "IntegerLookup", dict(output_mode="tf_idf"),
      [[1, 1, 2], [3, 2, 9]], adapt=[[1, 2, 2], [2, 3, 3], [4, 1, 1]]),
    C("il_count_pad", "IntegerLookup",
      dict(vocabulary=[1, 2], output_mode="count", max_tokens=5, pad_to_max_tokens=True),
      [[1, 1, 2, 7]]),
    # ------------------------------------------------------------------------- Hashing --
    C("hash_str", "Hashing", dict(num_bins=7), [["a"], ["bc"], ["Ü中"], [""], ["a" * 70]]),
    C("hash_salt", "Hashing", dict(num_bins=7, salt=(5, 9)), [["a"], ["bc"], ["Ü中"]]),
    C("hash_int", "Hashing", dict(num_bins=11), [[1, -22], [333, 0]]),
    C("hash_mask", "Hashing", dict(num_bins=5, mask_value=""), [["a", ""], ["", "b"]]),
    C("hash_count", "Hashing", dict(num_bins=5, output_mode="count"),
      [["a", "b", "a"], ["c", "c", "c"]]),
    # ------------------------------------------------------------------ HashedCrossing --
    C("cross_str_int", "HashedCrossing", dict(num_bins=10),
      [["a", "b", "Ü", ""], [1, 2, -3, 4000000000]]),
    C("cross_int_int", "HashedCrossing", dict(num_bins=1000), [[[1], [2]], [[7], [8]]]),
    C("cross_str_str_one_hot", "HashedCrossing", dict(num_bins=4, output_mode="one_hot"),
      [["a", "b", "c"], ["x", "y", "z"]]),
    C("cross_three", "HashedCrossing", dict(num_bins=97),
      [["a", "b"], [1, 2], ["p", "q"]]),
    C("cross_scalar", "HashedCrossing", dict(num_bins=5), ["a", 3]),
]


def _to_tf_kwargs(kwargs):
    return {k: CALLABLES.get(v, v) if isinstance(v, str) else v for k, v in kwargs.items()}


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
    if callable(x):
        return "<callable>"
    return x


def _hex(values):
    return np.array([bytes.fromhex(v) for v in values], dtype=object)


def _inputs(layer, value):
    if layer == "HashedCrossing":
        return [np.asarray(v) for v in value]
    return np.asarray(value) if not isinstance(value, str) else tf.constant(value)


def run_case(case):
    cls = getattr(keras.layers, case["layer"])
    out = {k: v for k, v in case.items()}
    layer = cls(**_to_tf_kwargs(case["kwargs"]))
    if case.get("adapt_hex") is not None:
        layer.adapt(_hex(case["adapt_hex"]))
    if case["adapt"] is not None:
        layer.adapt(np.asarray(case["adapt"]) if case["layer"] != "TextVectorization"
                    else case["adapt"])
    if case["adapt_batches"] is not None:
        layer.adapt((np.asarray(b) for b in case["adapt_batches"]), steps=case["steps"])
    if case["set_vocabulary"] is not None:
        layer.set_vocabulary(case["set_vocabulary"])
    try:
        x = _hex(case["inputs_hex"]) if case.get("inputs_hex") else \
            _inputs(case["layer"], case["inputs"])
        y = layer(x)
        y = y.numpy() if hasattr(y, "numpy") else np.asarray(y)
        out["output"], out["output_dtype"] = _jsonable(y), str(y.dtype)
        out["output_shape"] = list(y.shape)
    except Exception as e:  # recorded: kerax must raise too
        out["error"] = type(e).__name__
        print(f"{case['id']}: {type(e).__name__}: {str(e)[:200]}", file=sys.stderr)
    if hasattr(layer, "get_vocabulary"):
        try:
            out["vocabulary"] = _jsonable(layer.get_vocabulary())
            out["vocabulary_no_special"] = _jsonable(layer.get_vocabulary(False))
        except UnicodeDecodeError:  # Keras cannot decode a learned token: not compared
            pass
        out["vocabulary_size"] = int(layer.vocabulary_size())
    out["config"] = _jsonable(layer.get_config())
    out["num_weights"] = len(layer.weights)
    return out


def save_model_file():
    layer = keras.layers.IntegerLookup(output_mode="int")
    layer.adapt(np.array([5, 5, 9, 9, 9, 2, 7]))
    tfidf = keras.layers.IntegerLookup(output_mode="tf_idf", name="tfidf")
    tfidf.adapt(np.array([[5, 5, 9], [9, 2, 7]]))
    inputs = keras.Input(shape=(3,), dtype="int64")
    model = keras.Model(inputs, [layer(inputs), tfidf(inputs)])
    path = os.path.join(HERE, "int_lookup_model.keras")
    model.save(path)
    x = np.array([[5, 9, 4], [2, 7, 7]])
    return {"inputs": x.tolist(), "outputs": [_jsonable(np.asarray(o)) for o in model(x)]}


MODEL_TEXT = ["The cat sat.", "A dog, a cat!", "dogs and cats"]


def save_text_model_file():
    tv = keras.layers.TextVectorization(output_mode="tf_idf", ngrams=2)
    tv.adapt(MODEL_TEXT)
    seq = keras.layers.TextVectorization(output_sequence_length=5, name="seq")
    seq.adapt(MODEL_TEXT)
    lookup = keras.layers.StringLookup(num_oov_indices=2, mask_token="")
    lookup.adapt(np.array(["x", "y", "y", "z"]))
    inputs = keras.Input(shape=(1,), dtype="string")
    model = keras.Model(inputs, [tv(inputs), seq(inputs), lookup(inputs)])
    model.save(os.path.join(HERE, "text_model.keras"))
    x = np.array([["the cat"], ["y"], ["dogs, a cat sat"]])
    return {"inputs": x.tolist(), "outputs": [_jsonable(np.asarray(o)) for o in model(x)]}


def main():
    results = [run_case(c) for c in CASES]
    doc = {"keras_version": keras.__version__, "tensorflow_version": tf.__version__,
           "cases": results, "model_file": save_model_file(),
           "text_model_file": save_text_model_file()}
    with open(os.path.join(HERE, "text_goldens.json"), "w") as f:
        json.dump(doc, f, indent=0, sort_keys=True)
    print(f"wrote {len(results)} cases")


if __name__ == "__main__":
    main()
