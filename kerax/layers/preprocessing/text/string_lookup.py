"""`StringLookup`: strings to indices through a vocabulary, on the host."""

import numpy as np

from kerax.layers.preprocessing.text import string_ops
from kerax.layers.preprocessing.text.index_lookup import IndexLookup


class StringLookup(IndexLookup):
    """Maps strings to integer indices (or to encoded vectors), as Keras' `StringLookup`.

    Runs on the host (NumPy/Python): call it on str arrays or lists, in the input pipeline
    or eagerly. The vocabulary comes from `vocabulary=` (a list or a file with one term per
    line) or from `adapt` (terms by count, ties by the term, both high to low).

    Args:
        max_tokens: the most terms, counting the mask and OOV indices (None: no cap).
        num_oov_indices: OOV slots; with more than one, OOV strings are spread by FarmHash
            (SipHash-2-4 with `salt`), as TensorFlow's `to_hash_bucket_*` do.
        mask_token: a token mapped to 0 in `"int"` mode (dropped in the other modes).
        oov_token: what `invert=True` returns for OOV indices.
        vocabulary: a list/array of strings or the path of a vocabulary file.
        idf_weights: IDF weights for `output_mode="tf_idf"` with a given vocabulary.
        invert: map indices back to strings.
        output_mode: `"int"`, `"one_hot"`, `"multi_hot"`, `"count"` or `"tf_idf"`.
        pad_to_max_tokens: pad encoded outputs to `max_tokens` columns.
        sparse: must be False (kerax's arrays are dense).
        encoding: the encoding of bytes inputs.
        salt: an int or a pair of ints: key the OOV hash (SipHash).

    Example:
    >>> layer = StringLookup(vocabulary=["a", "b", "c"])
    >>> layer([["a", "c", "z"]]).tolist()
    [[1, 3, 0]]
    >>> StringLookup(vocabulary=["a", "b", "c"], invert=True)([[1, 0]]).tolist()
    [['a', '[UNK]']]
    """

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token="[UNK]",
                 vocabulary=None, idf_weights=None, invert=False, output_mode="int",
                 pad_to_max_tokens=False, sparse=False, encoding="utf-8", name=None,
                 salt=None, **kwargs):
        self.encoding = encoding
        kwargs.pop("vocabulary_dtype", None)
        super().__init__(max_tokens=max_tokens, num_oov_indices=num_oov_indices,
                         mask_token=mask_token, oov_token=oov_token, vocabulary=vocabulary,
                         idf_weights=idf_weights, invert=invert, output_mode=output_mode,
                         pad_to_max_tokens=pad_to_max_tokens, sparse=sparse, name=name,
                         salt=salt, vocabulary_dtype="string", **kwargs)

    def _keys(self, data):
        return string_ops.as_str_array(data, self.encoding,
                                       what=f"strings for StringLookup '{self.name}'")

    def _lookup_inputs(self, inputs):
        """The indices of host strings: str values in one NumPy lookup (`utf8_spans`),
        others (bytes, nested lists) through the dict, value by value."""
        spans = string_ops.ascii_cells(inputs) if isinstance(inputs, np.ndarray) else None
        if spans is not None:
            return self.lookup_spans(*spans[:3]).reshape(inputs.shape)
        found = string_ops.flat_strings(inputs)
        spans = None if found is None else string_ops.utf8_spans(found[0])
        if spans is None:
            return super()._lookup_inputs(inputs)
        return self.lookup_spans(*spans[:3]).reshape(found[1])

    def _key(self, value):
        if isinstance(value, bytes):
            return value.decode(self.encoding, "surrogateescape")
        return str(value)

    def _key_from_line(self, line):
        return self._key(line)

    def _key_bytes(self, key):
        return string_ops.to_bytes(key)

    def _token_array(self, tokens, shape):
        return np.asarray(tokens, dtype=str).reshape(shape)

    def get_config(self):
        config = super().get_config()
        del config["vocabulary_dtype"]
        return {**config, "encoding": self.encoding}
