"""TensorFlow's string ops as Keras' text layers use them, in Python and NumPy.

`tf.strings.lower` lowercases ASCII letters only, the punctuation regex removes ASCII
punctuation only, `tf.strings.split` splits on ASCII whitespace (space, tab, newline,
carriage return, vertical tab, form feed) and `tf.strings.ngrams` joins windows width by
width. Ragged data is a list of rows, each a list of tokens.
"""

import re
import string

import numpy as np

from kerax.layers.preprocessing.text import token_table

_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_NO_PUNCTUATION = str.maketrans("", "", string.punctuation)
_LOWER_NO_PUNCTUATION = str.maketrans(string.ascii_uppercase, string.ascii_lowercase,
                                      string.punctuation)


def as_str_array(values, encoding="utf-8", what="strings"):
    """Host values (str, bytes, lists, NumPy or JAX arrays) as a NumPy object array of str.

    Bytes are decoded with `encoding`; undecodable bytes are kept (surrogate escapes), so
    they hash and compare as TensorFlow's byte strings do.

    Example:
    >>> as_str_array([b"a", "b"]).tolist()
    ['a', 'b']
    """
    arr = np.asarray(values, dtype=object) if not isinstance(values, np.ndarray) else values
    if arr.dtype.kind == "U":
        return arr.astype(object)  # already str: one C-level conversion
    if arr.dtype.kind not in "USO":
        raise TypeError(
            f"Expected {what} (str or bytes values), received values of dtype {arr.dtype}. "
            "Pass a NumPy array of str, a list of str, or bytes."
        )
    out = np.empty(arr.shape, dtype=object)
    flat = out.reshape(-1)
    for i, v in enumerate(arr.reshape(-1).tolist()):
        if isinstance(v, bytes):
            v = v.decode(encoding, "surrogateescape")
        elif not isinstance(v, str):
            raise TypeError(
                f"Expected {what}, received the value {v!r} of type {type(v).__name__}. "
                "Pass str or bytes values."
            )
        flat[i] = v
    return out


def to_bytes(token):
    """The UTF-8 bytes TensorFlow holds for a token (undecodable bytes kept)."""
    return token.encode("utf-8", "surrogateescape")


def lower(s):
    """`tf.strings.lower` (ASCII letters only).

    Example:
    >>> lower("ÄB École")
    'Äb École'
    """
    return s.translate(_LOWER)


def lower_and_strip_punctuation(s):
    """`lower` then `strip_punctuation`, in one pass."""
    return s.translate(_LOWER_NO_PUNCTUATION)


def strip_punctuation(s):
    """Keras' punctuation regex: removes the ASCII punctuation characters."""
    return s.translate(_NO_PUNCTUATION)


# What Python's `str.split()` splits on besides ASCII whitespace (TensorFlow does not).
_NOT_TF_SPACE = re.compile("[\x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f"
                           "\u205f\u3000]")


def split_whitespace(s):
    """`tf.strings.split(s)`: on runs of ASCII whitespace, no empty tokens.

    Example:
    >>> split_whitespace(" a\\tb\\u00a0c  ")
    ['a', 'b\\xa0c']
    """
    if _NOT_TF_SPACE.search(s) is None:
        return s.split()  # the same split, at C speed
    return [t.decode("utf-8", "surrogateescape") for t in to_bytes(s).split()]


def split_characters(s):
    """`tf.strings.unicode_split(s, "UTF-8")`: one token per code point; each maximal
    invalid UTF-8 byte sequence becomes one U+FFFD, as TensorFlow's `errors="replace"`.

    Example:
    >>> split_characters(b"a\\xe4\\xb8b".decode("utf-8", "surrogateescape"))
    ['a', '\\ufffd', 'b']
    """
    if not s.isascii():
        s = to_bytes(s).decode("utf-8", "replace")
    return list(s)


def ngrams(tokens, widths, separator=" "):
    """`tf.strings.ngrams(tokens, widths, separator)` for one row: every width in order,
    windows shorter than a width give nothing.

    Example:
    >>> ngrams(["a", "b", "c"], (1, 2))
    ['a', 'b', 'c', 'a b', 'b c']
    """
    out = []
    for w in widths:
        out.extend(separator.join(tokens[i:i + w]) for i in range(len(tokens) - w + 1))
    return out


_TABLES = {"lower": _LOWER, "strip_punctuation": _NO_PUNCTUATION,
           "lower_and_strip_punctuation": _LOWER_NO_PUNCTUATION, None: None}
_ROW = "\x00"  # joins rows; neither whitespace nor punctuation, so standardizing keeps it


def _standardized_joined(strings, standardize, sep):
    """The strings standardized as one joined string (one C-level pass), or None when
    a row holds `sep` or a space TensorFlow does not split on (then go row by row)."""
    joined = sep.join(strings)
    if sep == _ROW and joined.count(_ROW) != max(len(strings) - 1, 0):
        return None
    table = _TABLES[standardize]
    if table is not None:
        joined = joined.translate(table)
    if _NOT_TF_SPACE.search(joined) is not None:
        return None
    return joined


def standardize_and_split(strings, standardize):
    """`split_whitespace(standardize(s))` for each of `strings` (a list of str): the
    standardization runs once over all rows joined, not once per row.

    Example:
    >>> standardize_and_split(["A b.", "c"], "lower_and_strip_punctuation")
    [['a', 'b'], ['c']]
    """
    joined = _standardized_joined(strings, standardize, _ROW)
    if joined is None:
        table = _TABLES[standardize]
        return [split_whitespace(s.translate(table) if table is not None else s)
                for s in strings]
    return [row.split() for row in joined.split(_ROW)] if strings else []


def standardized_tokens(strings, standardize):
    """All tokens of `strings` in order, in one list (what `adapt` counts): one
    translate and one split over the rows joined by a space.

    Example:
    >>> standardized_tokens(["A b.", "c"], "lower")
    ['a', 'b.', 'c']
    """
    joined = _standardized_joined(strings, standardize, " ")
    if joined is None:
        return [t for row in standardize_and_split(strings, standardize) for t in row]
    return joined.split()


_BYTE_TABLES = {  # `bytes.translate` arguments of the built-in standardizations
    "lower": (bytes.maketrans(string.ascii_uppercase.encode(),
                              string.ascii_lowercase.encode()), b""),
    "strip_punctuation": (None, string.punctuation.encode()),
    "lower_and_strip_punctuation": (bytes.maketrans(string.ascii_uppercase.encode(),
                                                    string.ascii_lowercase.encode()),
                                    string.punctuation.encode()),
    None: None}


def flat_strings(values):
    """`(a flat list, shape)` of a NumPy str/object array or a list/tuple, without
    converting its values (`utf8_spans` checks that they are str); None otherwise."""
    if isinstance(values, np.ndarray) and values.dtype.kind in "UO":
        return values.reshape(-1).tolist(), values.shape
    if isinstance(values, (list, tuple)):
        return list(values), (len(values),)
    return None


def ascii_cells(arr):
    """`utf8_spans(arr.ravel().tolist())` for a NumPy str array of ASCII strings without
    NUL, read straight from its UCS4 cells (no str object made); None otherwise.

    Example:
    >>> buf, starts, ends, _ = ascii_cells(np.array(["ab", "", "c"]))
    >>> [buf[s:e] for s, e in zip(starts, ends)]
    [b'ab', b'', b'c']
    """
    flat = np.ascontiguousarray(arr.reshape(-1))
    if not flat.dtype.str.startswith("<U") or not flat.size:
        return None
    width = flat.dtype.itemsize // 4
    codes = flat.view(np.uint32).reshape(flat.size, width)
    if codes.max() >= 128:
        return None
    lengths = np.char.str_len(flat).astype(np.int64)
    data = codes.astype(np.uint8)
    if np.count_nonzero(data) != lengths.sum():
        return None  # a NUL inside a string
    starts = np.arange(flat.size, dtype=np.int64) * width
    return (data.tobytes() + bytes(token_table.PAD), starts, starts + lengths,
            np.ones(flat.size, np.int64))


def utf8_spans(strings, standardize=None, split=False):
    """The strings (a list of str), standardized, as one UTF-8 buffer and the spans of
    their tokens: `(buf, starts, ends, counts)`, the tokens `buf[start:end]` in order and
    `counts` the tokens of each string. With `split`, the tokens are `tf.strings.split`'s
    (runs of ASCII whitespace separate them); without, each string is one token.

    One join, one encode, one `bytes.translate` and a few NumPy passes over the bytes,
    whatever the number of strings. None when a value is not a str, a string holds a NUL
    (the strings' separator) or cannot be encoded: then go string by string.

    Example:
    >>> buf, starts, ends, counts = utf8_spans(["A b.", "", " c "], "lower", split=True)
    >>> [buf[s:e] for s, e in zip(starts, ends)], counts.tolist()
    ([b'a', b'b.', b'c'], [2, 0, 1])
    """
    try:
        data = "\x00".join(strings).encode("utf-8", "surrogateescape")
    except (TypeError, UnicodeEncodeError):
        return None
    table = _BYTE_TABLES[standardize]
    if table is not None:
        data = data.translate(*table)
    buf = b"\x00" + data + bytes(token_table.PAD)  # a NUL before, between and after
    arr = np.frombuffer(buf, np.uint8)[:len(data) + 2]
    breaks = np.flatnonzero(arr == 0)
    if breaks.size != len(strings) + 1:
        return None if strings else (buf, *(np.zeros(0, np.int64),) * 3)
    if not split:
        return buf, breaks[:-1] + 1, breaks[1:], np.ones(len(strings), np.int64)
    # separators: NUL, and what tf.strings.split splits on (\t \n \v \f \r and space)
    sep = (arr == 32) | ((arr - np.uint8(9)) < 5) | (arr == 0)
    edges = np.flatnonzero(sep[1:] != sep[:-1]) + 1  # token starts and ends, alternating
    starts, ends = edges[0::2], edges[1::2]
    return buf, starts, ends, np.diff(np.searchsorted(starts, breaks))
