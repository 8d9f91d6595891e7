"""The joined (one translate, one split, one NumPy lookup) paths of the string layers
equal the row-by-row ones on the strings that could tell them apart: empty rows, runs of
whitespace, non-ASCII text, undecodable bytes, a NUL or a space TensorFlow does not split
on in a row, terms that share their first 8 bytes, long terms."""

import numpy as np
import pytest

from kerax.layers import StringLookup, TextVectorization
from kerax.layers.preprocessing.text import string_ops
from kerax.layers.preprocessing.text.encoding import encode_ids
from kerax.layers.preprocessing.text.token_table import PAD, TokenTable
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
    spans = string_ops.utf8_spans(strings, standardize, split=True)
    if spans is not None:
        buf, starts, ends, counts = spans
        tokens = [buf[s:e].decode("utf-8", "surrogateescape") for s, e in zip(starts, ends)]
        assert tokens == [t for r in want for t in r]
        assert counts.tolist() == [len(r) for r in want]
    else:
        assert any("\x00" in s for s in strings)  # only a NUL sends a str batch row by row


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


# Terms that could confuse the NumPy table: 8 and 9..16 byte terms sharing their first 8
# bytes, longer terms, non-ASCII, undecodable bytes, a NUL inside, the empty string.
TERMS = ["a", "ab", "abcdefg", "abcdefgh", "abcdefghi", "abcdefghijklmnop",
         "abcdefghijklmnopq", "x" * 40, "é", "中文字", "\udcff\udce4", "a\x00b", "",
         "w0", "w1", "w10", "w100"] + [f"t{i}" for i in range(300)]
QUERIES = TERMS + ["abcdefgh" + "i" * k for k in range(1, 12)] + [
    "abcdefgj", "b", "w1000", "x" * 39, "é\udcff", "中", "zz" * 9, "t300", "T1"]


def test_token_table_equals_the_dict_lookup():
    mapping = {t: i + 2 for i, t in enumerate(TERMS)}
    table = TokenTable(mapping)
    queries = [q for q in QUERIES if "\x00" not in q]  # (a NUL separates tokens)
    buf = b"\x00".join(q.encode("utf-8", "surrogateescape") for q in queries) + bytes(PAD)
    lengths = np.array([len(q.encode("utf-8", "surrogateescape")) for q in queries])
    starts = np.concatenate([[0], np.cumsum(lengths + 1)[:-1]])
    ids = table.lookup(buf, starts, starts + lengths)
    assert ids.tolist() == [mapping.get(q, -1) for q in queries]


@pytest.mark.parametrize("kwargs", [{}, {"mask_token": "[M]"}, {"num_oov_indices": 3},
                                    {"output_mode": "multi_hot"}])
@pytest.mark.parametrize("queries", [
    QUERIES[:-1], ["abc", "", "x"], ["t1", "a\x00b", "é"], ["nul\x00", "t2"], []])
def test_string_lookup_same_with_either_path(kwargs, queries):
    layer = StringLookup(vocabulary=[t for t in TERMS if t], **kwargs)
    as_bytes = np.array([q.encode("utf-8", "surrogateescape") for q in queries],
                        dtype=object)  # bytes go through the dict, value by value
    want = layer.host_call(as_bytes.reshape(-1, 1))
    got = layer.host_call(np.array(queries, dtype=object).reshape(-1, 1))
    np.testing.assert_array_equal(got, want)
    if all(q.isascii() and not q.endswith("\x00") for q in queries):
        # a str array (ASCII: read from its cells; NumPy drops trailing NULs)
        cells = np.array(queries or [""], dtype=str).reshape(-1, 1)[:len(queries)]
        np.testing.assert_array_equal(layer.host_call(cells), want)
        np.testing.assert_array_equal(layer.host_call(cells.astype(">U30")), want)
    np.testing.assert_array_equal(layer.host_call(list(queries)), layer.host_call(as_bytes))


def test_string_lookup_without_oov_indices_names_the_missing_strings():
    layer = StringLookup(vocabulary=["a", "b"], num_oov_indices=0)
    with pytest.raises(ValueError, match=r"found OOV values \['zz', 'q'\]"):
        layer(np.array(["a", "zz", "b", "q"]))


def _encode_reference(rows, output_mode, depth, idf=None):
    """Row by row with `np.add.at` (what `encode_ids` did before it filled cells flat)."""
    out = np.zeros((len(rows), depth), np.int64)
    for i, r in enumerate(rows):
        r = np.asarray(r, np.int64)
        r = r[(r >= 0) & (r < depth)]
        np.add.at(out[i], r, 1)
    if output_mode == "multi_hot":
        out = np.minimum(out, 1)
    return out.astype(np.float32) * np.asarray(idf, np.float32) if idf is not None else out


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # 0 * inf
@pytest.mark.parametrize("idf", [[0.5, 1.5, 2.0, 0.25, 3.0, 1.0],
                                 [0.5, -1.5, 2.0, 0.0, -0.0, 1.0],  # -0.0 where not counted
                                 [0.5, np.nan, 2.0, np.inf, 3.0, 1.0]])
def test_tf_idf_bitwise_as_dense_counts_times_idf(idf):
    rows = [[1, 1, 3], [], [5, 0, 0, 0, 9, -1], [2]]
    flat = np.concatenate([np.asarray(r, np.int64) for r in rows])
    got = encode_ids((flat, [len(r) for r in rows]), "tf_idf", 6, idf)
    want = _encode_reference(rows, "count", 6, idf)
    np.testing.assert_array_equal(got.view(np.uint32), want.view(np.uint32))


@pytest.mark.parametrize("output_mode", ["multi_hot", "count"])
def test_ragged_and_dense_encodings_equal_row_by_row_counts(output_mode):
    rows = [[1, 1, 3], [], [5, 0, 0, 9, -1], [2]]
    flat = np.concatenate([np.asarray(r, np.int64) for r in rows])
    want = _encode_reference(rows, output_mode, 6)
    np.testing.assert_array_equal(encode_ids((flat, [3, 0, 5, 1]), output_mode, 6), want)
    np.testing.assert_array_equal(encode_ids([np.asarray(r) for r in rows], output_mode, 6),
                                  want)
    dense = np.array([[1, 1, 3], [4, 4, 4]])
    np.testing.assert_array_equal(encode_ids(dense, output_mode, 6),
                                  _encode_reference(dense, output_mode, 6))


@pytest.mark.parametrize("output_mode", ["multi_hot", "count", "tf_idf"])
def test_encoded_text_vectorization_same_with_either_path(output_mode):
    layer = TextVectorization(output_mode=output_mode)
    layer.adapt(ROWS)
    ngram = TextVectorization(output_mode=output_mode, ngrams=(1,))  # row-by-row path
    idf = layer._lookup_layer._idf[1:] if output_mode == "tf_idf" else None
    ngram.set_vocabulary(layer.get_vocabulary()[1:], idf_weights=idf)
    arr = np.array(ROWS, dtype=object)
    np.testing.assert_array_equal(layer.host_call(arr), ngram.host_call(arr))
