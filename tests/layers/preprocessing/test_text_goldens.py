"""kerax's string layers against Keras 3 on TensorFlow, output for output.

The goldens were written by `goldens/make_text_goldens.py` (Keras 3 on TensorFlow, in a
throwaway environment); CI never installs TensorFlow. Each case rebuilds the layer in
kerax with the same arguments, adapts or sets the same vocabulary, calls it on the same
inputs, and compares the output (values, shape, dtype kind), the vocabulary and the
config.
"""

import json
import os
import string

import numpy as np
import pytest

import kerax

GOLDENS = os.path.join(os.path.dirname(__file__), "goldens", "text_goldens.json")
with open(GOLDENS) as f:
    DOC = json.load(f)
CASES = DOC["cases"]
_UPPER = str.maketrans(string.ascii_lowercase, string.ascii_uppercase)

# NumPy twins of the TensorFlow callables in make_text_goldens.CALLABLES (tf.strings.upper
# changes ASCII letters only).
CALLABLES = {
    "@upper": np.vectorize(lambda s: s.translate(_UPPER), otypes=[object]),
    "@strip_x": lambda x: np.char.replace(x, "x", ""),
    "@split_comma": lambda x: [s.split(",") for s in x],
}


def _kwargs(kwargs):
    out = {k: CALLABLES.get(v, v) if isinstance(v, str) else v for k, v in kwargs.items()}
    if isinstance(out.get("ngrams"), list):
        out["ngrams"] = tuple(out["ngrams"])
    if isinstance(out.get("salt"), list):
        out["salt"] = tuple(out["salt"])
    return out


def _hex(values):
    return np.array([bytes.fromhex(v) for v in values], dtype=object)


def _inputs(case):
    if case.get("inputs_hex"):
        return _hex(case["inputs_hex"])
    value = case["inputs"]
    if case["layer"] == "HashedCrossing":
        return [np.asarray(v) for v in value]
    return value if isinstance(value, str) else np.asarray(value)


def build(case):
    layer = getattr(kerax.layers, case["layer"])(**_kwargs(case["kwargs"]))
    if case.get("adapt_hex") is not None:
        layer.adapt(_hex(case["adapt_hex"]))
    if case["adapt"] is not None:
        data = case["adapt"] if case["layer"] == "TextVectorization" else np.asarray(case["adapt"])
        layer.adapt(data)
    if case["adapt_batches"] is not None:
        layer.adapt((np.asarray(b) for b in case["adapt_batches"]), steps=case["steps"])
    if case["set_vocabulary"] is not None:
        layer.set_vocabulary(case["set_vocabulary"])
    return layer


def _jsonable(x):
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return _jsonable(x.tolist())
    if isinstance(x, np.generic):
        return x.item()
    if callable(x):
        return "<callable>"
    return x


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_output_equals_keras_on_tensorflow(case):
    layer = build(case)
    if "error" in case:
        with pytest.raises(ValueError, match="num_oov_indices=0"):
            layer(_inputs(case))
        return
    got = np.asarray(layer(_inputs(case)))
    expected = np.asarray(case["output"])
    assert list(got.shape) == case["output_shape"]
    kind = np.dtype(case["output_dtype"]).kind
    if kind == "O":  # strings (invert=True)
        assert got.tolist() == expected.tolist()
    elif kind == "f":
        assert got.dtype.kind == "f"
        np.testing.assert_allclose(got, expected.astype(np.float32), rtol=1e-6, atol=1e-7)
    else:
        assert got.dtype.kind in "iu"
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("case", [c for c in CASES if "vocabulary" in c],
                         ids=[c["id"] for c in CASES if "vocabulary" in c])
def test_vocabulary_and_config_equal_keras(case):
    layer = build(case)
    assert _jsonable(layer.get_vocabulary()) == case["vocabulary"]
    assert _jsonable(layer.get_vocabulary(include_special_tokens=False)) == \
        case["vocabulary_no_special"]
    assert layer.vocabulary_size() == case["vocabulary_size"]
    config = _jsonable(layer.get_config())
    expected = dict(case["config"])
    assert config.pop("name") and expected.pop("name")
    assert config == expected
    assert len(layer.weights) == case["num_weights"] == 0


@pytest.mark.parametrize("case", [c for c in CASES if c["layer"] == "HashedCrossing"],
                         ids=[c["id"] for c in CASES if c["layer"] == "HashedCrossing"])
def test_hashed_crossing_config_equals_keras(case):
    config = _jsonable(build(case).get_config())
    expected = dict(case["config"])
    config.pop("name"), expected.pop("name")
    assert config == expected


def _symbolic_input(case):
    value = _inputs(case)
    if isinstance(value, list):
        return [kerax.Input(shape=v.shape[1:], dtype="string" if v.dtype.kind in "USO"
                            else "int64") for v in value]
    return kerax.Input(shape=value.shape[1:], dtype="string" if value.dtype.kind in "USO"
                       else "int64")


_BATCHED = [c for c in CASES if "error" not in c and not isinstance(c["inputs"], str)
            and len(c["output_shape"]) >= 1 and len(np.asarray(_inputs(c)[0] if c["layer"] ==
                                                               "HashedCrossing" else
                                                               _inputs(c)).shape) >= 1]


@pytest.mark.parametrize("case", _BATCHED, ids=[c["id"] for c in _BATCHED])
def test_symbolic_output_matches_the_eager_output(case):
    """What a functional model is built with is what the host layer returns."""
    layer = build(case)
    eager = np.asarray(layer(_inputs(case)))
    symbolic = layer(_symbolic_input(case))
    batch_axis = np.asarray(_inputs(case)[0] if case["layer"] == "HashedCrossing"
                            else _inputs(case)).ndim >= 1
    assert len(symbolic.shape) == eager.ndim
    for i, (s, e) in enumerate(zip(symbolic.shape, eager.shape)):
        assert s is None or s == e, (symbolic.shape, eager.shape)
        assert s is not None or i > 0 or batch_axis
    kind = "U" if symbolic.dtype == "string" else np.dtype(symbolic.dtype).kind
    assert kind == eager.dtype.kind
