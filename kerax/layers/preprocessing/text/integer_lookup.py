"""`IntegerLookup`: integers to indices through a vocabulary, on the host."""

import numpy as np

from kerax.layers.preprocessing.text.index_lookup import IndexLookup


class IntegerLookup(IndexLookup):
    """Maps integers to contiguous indices (or encoded vectors), as Keras' `IntegerLookup`.

    Runs on the host (NumPy/Python), like `StringLookup`. With several OOV slots, OOV
    integers go to `value % num_oov_indices` (`oov_method="floormod"`) or are hashed as
    decimal strings (`"farmhash"`, keyed by `salt` when given).

    Args:
        max_tokens, num_oov_indices, vocabulary, idf_weights, invert, output_mode,
        pad_to_max_tokens, sparse, salt: as in `StringLookup`.
        mask_token: an integer mapped to 0 in `"int"` mode.
        oov_token: what `invert=True` returns for OOV indices (default -1).
        vocabulary_dtype: must be `"int64"`, as in Keras.
        oov_method: `"floormod"` (default) or `"farmhash"`.

    Example:
    >>> layer = IntegerLookup(vocabulary=[12, 36, 1138, 42])
    >>> layer([[12, 1138, 42], [42, 1000, 36]]).tolist()
    [[1, 3, 4], [4, 0, 2]]
    """

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token=-1,
                 vocabulary=None, vocabulary_dtype="int64", idf_weights=None, invert=False,
                 output_mode="int", sparse=False, pad_to_max_tokens=False,
                 oov_method="floormod", salt=None, name=None, **kwargs):
        if max_tokens is not None and max_tokens <= 1:
            raise ValueError("If `max_tokens` is set for `IntegerLookup`, it must be greater "
                             f"than 1. Received: max_tokens={max_tokens}")
        if num_oov_indices < 0:
            raise ValueError("The value of `num_oov_indices` argument for `IntegerLookup` "
                             f"must >= 0. Received: num_oov_indices={num_oov_indices}")
        if vocabulary_dtype != "int64":
            raise ValueError("Only `vocabulary_dtype='int64'` is supported at this time. "
                             f"Received: vocabulary_dtype={vocabulary_dtype}")
        super().__init__(max_tokens=max_tokens, num_oov_indices=num_oov_indices,
                         mask_token=mask_token, oov_token=oov_token, vocabulary=vocabulary,
                         vocabulary_dtype=vocabulary_dtype, idf_weights=idf_weights,
                         invert=invert, output_mode=output_mode, sparse=sparse,
                         pad_to_max_tokens=pad_to_max_tokens, oov_method=oov_method,
                         salt=salt, name=name, **kwargs)

    def _keys(self, data):
        arr = np.asarray(data)
        if arr.dtype.kind == "O" and all(isinstance(v, (int, np.integer))
                                         and not isinstance(v, bool) for v in arr.flat):
            return arr  # already keys (Python ints)
        if arr.dtype.kind == "f" and np.array_equal(arr, np.trunc(arr)):
            arr = arr.astype(np.int64)
        if arr.dtype.kind not in "iub":
            raise TypeError(
                f"IntegerLookup '{self.name}' expects integers, received values of dtype "
                f"{arr.dtype}. Pass an integer array (use StringLookup for strings).")
        return arr.astype(np.int64).astype(object)

    def _key(self, value):
        return int(value)

    def _key_from_line(self, line):
        return int(line)

    def _key_bytes(self, key):
        return str(key).encode("ascii")

    def _token_array(self, tokens, shape):
        return np.asarray(tokens, np.int64).reshape(shape)

    def get_config(self):
        config = super().get_config()
        for name in ("oov_token", "mask_token"):
            if config[name] is not None:
                config[name] = int(config[name])
        if config["vocabulary"] is not None:
            config["vocabulary"] = [int(v) for v in config["vocabulary"]]
        return config
