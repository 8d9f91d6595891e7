"""Conformance cases for the host-side string layers.

Keras' versions need TensorFlow, so Keras parity is checked against committed goldens
(tests/layers/preprocessing/test_text_goldens.py); the layers run on the host and cannot
be traced (jit, vmap, abstract init do not apply).
"""

import numpy as np

from tests.layers.conformance import Case

_HOST = dict(grad=False, vmap=False, skip=("keras_parity", "keras_config", "jit",
                                            "abstract_init"))
_WORDS = lambda rng: [np.asarray(rng.choice(["a", "b", "c", "zz"], (2, 3)))]  # noqa: E731
_TEXT = lambda rng: [np.asarray(["The cat sat", "a dog, a cat!"])]  # noqa: E731

CASES = [
    Case("StringLookup", dict(vocabulary=["a", "b", "c"]), make_inputs=_WORDS,
         input_dtype="str", **_HOST),
    Case("StringLookup", dict(vocabulary=["a", "b", "c"], output_mode="count"),
         make_inputs=_WORDS, input_dtype="str", id="count", **_HOST),
    Case("IntegerLookup", dict(vocabulary=[1, 3, 5], num_oov_indices=2),
         make_inputs=lambda rng: [rng.integers(0, 7, (2, 3))], input_dtype="int64", **_HOST),
    Case("TextVectorization", dict(vocabulary=["the", "cat", "a"], output_sequence_length=5),
         make_inputs=_TEXT, input_dtype="str", **_HOST),
    Case("TextVectorization", dict(vocabulary=["the", "cat", "a"], output_mode="tf_idf",
                                   idf_weights=[0.5, 1.0, 2.0]),
         make_inputs=_TEXT, input_dtype="str", id="tf_idf", **_HOST),
    Case("HashedCrossing", dict(num_bins=7),
         make_inputs=lambda rng: [[np.asarray(["a", "b"]), np.asarray([1, 2])]],
         input_dtype="str", **_HOST),
]
