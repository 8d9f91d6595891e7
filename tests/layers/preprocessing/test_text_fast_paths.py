"""The joined (one translate, one split) paths of the string ops equal the row-by-row
ones on the strings that could tell them apart: empty rows, runs of whitespace, non-ASCII
text, undecodable bytes, a NUL or a space TensorFlow does not split on in a row."""

import numpy as np
import pytest

from kerax.layers import TextVectorization
from kerax.layers.preprocessing.text import string_ops
from kerax.layers.preprocessing.text.vocabulary import TokenCounts

ROWS = ["", "  A  b.\tC\n", "Ünï cödé — x", "\udcff bad \udce4", "", "a\x0bb\x0cc\rd",
        "emoji 😀 中文 ,;", "x"]
TRICKY = [ROWS + ["nul\x00inside"], ROWS + ["nb\u00a0sp"], ROWS + ["fs\x1csep"], [], [""]]


def _row_by_row(strings, standardize):
    table = string_ops._TABLES[standardize]
    return [string_ops.split_whitespace(s.translate(table) if table else s) for s in strings]


@pytest.mark.parametrize("standardize", [None, "lower", "strip_punctuation",
                                         "lower_and_strip_punctuation"])
@pytest.mark.parametrize("strings", [ROWS] + TRICKY)
def test_joined_paths_equal_row_by_row(strings, standardize):
    want = _row_by_row(strings, standardize)
    assert string_ops.standardize_and_split(strings, standardize) == want
    assert string_ops.standardized_tokens(strings, standardize) == [t for r in want for t in r]
    flat = string_ops.standardize_and_split_flat(strings, standardize)
    if flat is not None:
        assert flat[0] == [t for r in want for t in r]
        assert flat[1].tolist() == [len(r) for r in want]


@pytest.mark.parametrize("strings", [ROWS] + TRICKY[:3])
def test_text_vectorization_same_with_either_path(strings):
    layer = TextVectorization(output_sequence_length=5)
    layer.adapt(strings)
    ngram = TextVectorization(output_sequence_length=5, ngrams=(1,))  # row-by-row path
    ngram.set_vocabulary(layer.get_vocabulary()[2:])
    arr = np.array(strings, dtype=object)
    np.testing.assert_array_equal(layer(arr), ngram(arr))
    np.testing.assert_array_equal(layer(arr[:, None]), ngram(arr))


@pytest.mark.parametrize("strings", [ROWS] + TRICKY[:3])
def test_adapt_counts_as_row_by_row(strings):
    layer = TextVectorization()
    layer.adapt(strings)
    counts = TokenCounts()
    counts.update(_row_by_row(strings, "lower_and_strip_punctuation"))
    assert layer.get_vocabulary(include_special_tokens=False) == counts.ordered(exclude={""})
