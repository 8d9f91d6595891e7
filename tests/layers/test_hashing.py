"""Hashing: FarmHash Fingerprint64 / SipHash bins as in Keras (which needs TensorFlow).

Keras' Hashing cannot run here (it needs TensorFlow), so the expected bins are Keras' own
docstring examples, and the hash itself is checked against `pyfarmhash` when installed.
"""

import random

import jax
import numpy as np
import pytest

from kerax.layers.preprocessing.hashing import Hashing, fingerprint64, siphash64

LETTERS = [["A"], ["B"], ["C"], ["D"], ["E"]]


@pytest.mark.parametrize("kwargs, inputs, expected", [
    (dict(num_bins=3), LETTERS, [1, 0, 1, 1, 2]),
    (dict(num_bins=3, mask_value=""), [["A"], ["B"], [""], ["C"], ["D"]], [1, 1, 0, 2, 2]),
    (dict(num_bins=3, salt=[133, 137]), LETTERS, [1, 2, 1, 0, 2]),
    (dict(num_bins=3, salt=133), LETTERS, [0, 0, 2, 1, 0]),
])
def test_keras_docstring_examples(kwargs, inputs, expected):
    out = Hashing(**kwargs)(inputs)
    assert out.shape == (5, 1)
    assert np.asarray(out).ravel().tolist() == expected


def test_fingerprint64_matches_farmhash_for_every_length_branch():
    farmhash = pytest.importorskip("farmhash")
    rng = random.Random(0)
    for n in list(range(0, 70)) + [127, 128, 129, 300]:
        data = bytes(rng.randrange(256) for _ in range(n))
        assert fingerprint64(data) == farmhash.fingerprint64(data), n


def test_siphash_reference_vector():
    # SipHash-2-4 paper (Aumasson & Bernstein), appendix A: key 00..0f, message 00..0e.
    key = [int.from_bytes(bytes(range(8)), "little"), int.from_bytes(bytes(range(8, 16)), "little")]
    assert siphash64(key, bytes(range(15))) == 0xA129CA6149BE45E5


def test_integers_hash_as_decimal_strings_and_floats_truncate():
    layer = Hashing(num_bins=7)
    ints = np.asarray(layer(np.array([[1, 22], [333, -4]])))
    strs = np.asarray(layer([["1", "22"], ["333", "-4"]]))
    np.testing.assert_array_equal(ints, strs)
    np.testing.assert_array_equal(np.asarray(layer(np.array([1.7, 22.2]))), ints[0])
    masked = Hashing(num_bins=7, mask_value=22)(np.array([1, 22]))
    unmasked_bin = int(Hashing(num_bins=6)(np.array([1]))[0])
    assert np.asarray(masked).tolist() == [unmasked_bin + 1, 0]


def test_encoded_output_modes():
    ids = np.asarray(Hashing(num_bins=4)([["a", "b"], ["c", "c"]]))
    multi = Hashing(num_bins=4, output_mode="multi_hot")([["a", "b"], ["c", "c"]])
    count = Hashing(num_bins=4, output_mode="count")([["a", "b"], ["c", "c"]])
    one = Hashing(num_bins=4, output_mode="one_hot")([["a"], ["c"]])
    assert multi.shape == count.shape == one.shape[:1] + (4,) == (2, 4)
    assert float(count[1, ids[1, 0]]) == 2.0 and float(multi[1].sum()) == 1.0
    assert one.dtype == np.float32 and float(one[1, ids[1, 0]]) == 1.0


def test_config_round_trip():
    layer = Hashing(num_bins=5, mask_value="", salt=7, output_mode="count")
    config = layer.get_config()
    assert config["salt"] == [7, 7]
    assert Hashing.from_config(config).get_config() == config


def test_traced_inputs_raise():
    layer = Hashing(num_bins=3)
    layer(np.array([1, 2]))
    with pytest.raises(TypeError, match="cannot hash traced values"):
        jax.jit(lambda x: layer(x))(np.array([1, 2]))


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(num_bins=0), ValueError, "cannot be `None` or non-positive"),
    (dict(num_bins=3, salt="x"), ValueError, "can only be a tuple of size 2"),
    (dict(num_bins=3, output_mode="onehot"), ValueError, "output_mode"),
    (dict(num_bins=3, sparse=True), ValueError, "`sparse=True` is not supported"),
    (dict(num_bins=3, dtype="float32"), ValueError, "should be an integer type"),
])
def test_argument_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        Hashing(**kwargs)


def test_unsupported_input_dtype():
    with pytest.raises(TypeError, match="expects strings or integers"):
        Hashing(num_bins=3)(np.array([True, False]))
