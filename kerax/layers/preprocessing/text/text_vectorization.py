"""`TextVectorization`: standardize, split, n-grams, then a `StringLookup`, on the host."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np

from kerax.errors import unknown_identifier
from kerax.layers.layer import Layer
from kerax.layers.preprocessing.text import string_ops
from kerax.layers.preprocessing.text.host import (
    HostSpec, applied_in_pipeline, encoded_shape, int_dtype, refuse_traced)
from kerax.layers.preprocessing.text.index_lookup import _is_stream
from kerax.layers.preprocessing.text.string_lookup import StringLookup
from kerax.serialization import serialization_lib

STANDARDIZE = ("lower_and_strip_punctuation", "lower", "strip_punctuation")
SPLIT = ("whitespace", "character")


def _check_choice(name, value, allowed):
    if value is None or callable(value):
        return
    if value not in allowed:
        raise unknown_identifier(name, value, allowed)


def _object_array(items):
    """A 1D object array of `items` (NumPy would make nested lists a 2D array)."""
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out


def _pad_rows(flat, lengths, length=None):
    """Ragged rows (flat values and row lengths) as a dense array, zero padded or cut to
    `length` (default: the longest row), as `RaggedTensor.to_tensor` does."""
    if length is None:
        length = int(lengths.max()) if lengths.size else 0
    out = np.zeros((len(lengths), length), np.int64)
    if not lengths.size or lengths.max() <= length:  # nothing to cut: fill by a mask
        out[np.arange(length) < lengths[:, None]] = flat
        return out
    row = np.repeat(np.arange(len(lengths)), lengths)
    col = np.arange(len(flat)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    keep = col < length
    out[row[keep], col[keep]] = flat[keep]
    return out


class TextVectorization(Layer):
    """Turns strings into token indices or vectors, as Keras' `TextVectorization`.

    Runs on the host (NumPy/Python; strings never enter XLA) and equals Keras 3 on
    TensorFlow output for output: `lower` changes ASCII letters only, punctuation is
    ASCII punctuation, `"whitespace"` splits on ASCII whitespace, `"character"` on code
    points, as TensorFlow's string ops do. A callable `standardize` receives a NumPy
    array of str (as Keras on non-TensorFlow backends gives it); a callable `split`
    receives a NumPy array of str of shape `(batch,)` and returns one list of tokens per
    string.

    Args:
        max_tokens: the most terms, counting the padding and OOV indices.
        standardize: `"lower_and_strip_punctuation"` (default), `"lower"`,
            `"strip_punctuation"`, None or a callable.
        split: `"whitespace"` (default), `"character"`, None or a callable.
        ngrams: None, an int n (all n-grams up to n) or a tuple of widths.
        output_mode: `"int"`, `"multi_hot"`, `"count"`, `"tf_idf"` or `"one_hot"`.
        output_sequence_length: in `"int"` mode, pad or truncate to this many tokens.
        pad_to_max_tokens: pad encoded outputs to `max_tokens` columns.
        vocabulary: a list of terms or a vocabulary file path.
        idf_weights: IDF weights for `"tf_idf"` with a given vocabulary.
        sparse, ragged: must be False (kerax's arrays are dense).
        encoding: the encoding of bytes inputs.

    Example:
    >>> layer = TextVectorization(output_sequence_length=4)
    >>> layer.adapt(["The cat sat.", "The dog!"])
    >>> layer.get_vocabulary()
    ['', '[UNK]', 'the', 'sat', 'dog', 'cat']
    >>> layer(["the dog sat", "a cat"]).tolist()
    [[2, 4, 3, 0], [1, 5, 0, 0]]
    """

    def __init__(self, max_tokens=None, standardize="lower_and_strip_punctuation",
                 split="whitespace", ngrams=None, output_mode="int",
                 output_sequence_length=None, pad_to_max_tokens=False, vocabulary=None,
                 idf_weights=None, sparse=False, ragged=False, encoding="utf-8", name=None,
                 **kwargs):
        if sparse:
            raise ValueError("`sparse=True` can only be used with the TensorFlow backend "
                             "(kerax's arrays are dense). Use `sparse=False`.")
        if ragged:
            raise ValueError("`ragged=True` can only be used with the TensorFlow backend "
                             "(kerax's arrays are dense). Use `ragged=False` and pad with "
                             "`output_sequence_length`.")
        _check_choice("standardize", standardize, STANDARDIZE)
        _check_choice("split", split, SPLIT)
        output_mode = {"binary": "multi_hot", "tf-idf": "tf_idf"}.get(output_mode, output_mode)
        if not (ngrams is None or isinstance(ngrams, int) or (
                isinstance(ngrams, tuple) and all(isinstance(i, int) for i in ngrams))):
            raise ValueError("`ngrams` must be None, an integer, or a tuple of integers. "
                             f"Received: ngrams={ngrams}")
        widths = tuple(range(1, ngrams + 1)) if isinstance(ngrams, int) else ngrams
        if widths is not None and any(w < 1 for w in widths):
            raise ValueError(f"`ngrams` widths must be at least 1. Received: ngrams={ngrams}")
        if output_mode == "int" and not (output_sequence_length is None
                                         or isinstance(output_sequence_length, int)):
            raise ValueError("`output_sequence_length` must be either None or an integer "
                             "when `output_mode` is 'int'. Received: "
                             f"output_sequence_length={output_sequence_length}")
        if output_mode != "int" and output_sequence_length is not None:
            raise ValueError("`output_sequence_length` must not be set if `output_mode` is "
                             "not 'int'. "
                             f"Received output_sequence_length={output_sequence_length}.")
        has_input_vocabulary = kwargs.pop("has_input_vocabulary", vocabulary is not None)
        vocabulary_size = kwargs.pop("vocabulary_size", None)
        kwargs.pop("dtype", None)
        super().__init__(name=name, autocast=False, **kwargs)
        self._standardize, self._split = standardize, split
        self._ngrams_arg, self._ngrams = ngrams, widths
        self._output_mode, self._output_sequence_length = output_mode, output_sequence_length
        self._ragged, self._encoding = ragged, encoding
        self._lookup_layer = StringLookup(
            max_tokens=max_tokens, vocabulary=vocabulary, idf_weights=idf_weights,
            pad_to_max_tokens=pad_to_max_tokens, mask_token="", output_mode=output_mode,
            sparse=sparse, has_input_vocabulary=has_input_vocabulary, encoding=encoding,
            vocabulary_size=vocabulary_size)

    # ---------------------------------------------------------------- preprocessing --
    def _standardized(self, strings):
        fn = {"lower": string_ops.lower, "strip_punctuation": string_ops.strip_punctuation,
              "lower_and_strip_punctuation": string_ops.lower_and_strip_punctuation}
        return list(map(fn[self._standardize], strings))

    def preprocess(self, inputs):
        """Standardized, split and n-grammed tokens: `(rows, batch_shape)` where `rows`
        is a list of token lists (ragged), or `(array, None)` when `split` is None."""
        arr = string_ops.as_str_array(inputs, self._encoding,
                                      what=f"strings for TextVectorization '{self.name}'")
        if self._split == "whitespace" and not callable(self._standardize) and arr.ndim > 1 \
                and arr.shape[-1] == 1:
            arr = arr[..., 0]  # (batch, 1) strings: standardized and split in one pass
        if self._split == "whitespace" and not callable(self._standardize) and arr.ndim <= 1:
            return self._split_whitespace(arr)
        if callable(self._standardize):
            arr = string_ops.as_str_array(self._standardize(arr.astype(str)), self._encoding,
                                          what="strings from the `standardize` callable")
        elif self._standardize is not None:
            arr = _object_array(self._standardized(arr.reshape(-1).tolist())).reshape(arr.shape)
        if self._split is None:
            if self._ngrams is None:
                return arr, None
            if arr.ndim == 0:
                raise ValueError("TextVectorization with `split=None` and `ngrams` needs "
                                 "inputs of rank 1 or more (tokens along the last axis). "
                                 "Received a scalar string.")
            rows = [string_ops.ngrams(r, self._ngrams)
                    for r in arr.reshape(-1, arr.shape[-1]).tolist()]
            return rows, arr.shape[:-1]
        if arr.ndim > 1:
            if arr.shape[-1] != 1:
                raise ValueError(
                    "When using `TextVectorization` to tokenize strings, the input rank must "
                    "be 1 or the last shape dimension must be 1. Received: "
                    f"inputs.shape={arr.shape} with rank={arr.ndim}")
            arr = arr[..., 0]
        flat = arr.reshape(-1)
        if callable(self._split):
            rows = [list(string_ops.as_str_array(r, self._encoding).reshape(-1))
                    for r in self._split(flat.astype(str))]
        else:
            fn = string_ops.split_whitespace if self._split == "whitespace" \
                else string_ops.split_characters
            rows = list(map(fn, flat.tolist()))
        if self._ngrams is not None:
            rows = [string_ops.ngrams(r, self._ngrams) for r in rows]
        return rows, arr.shape

    def _split_whitespace(self, arr):
        """`preprocess` for the built-in standardizations and `"whitespace"` split: one
        translate over all strings joined, then one split per string."""
        shape = arr.shape
        rows = string_ops.standardize_and_split(arr.reshape(-1).tolist(), self._standardize)
        if self._ngrams is not None:
            rows = [string_ops.ngrams(r, self._ngrams) for r in rows]
        return rows, shape

    def host_call(self, inputs):
        """The layer on host strings, as NumPy (what `__call__` returns, before JAX)."""
        lookup = self._lookup_layer
        if self._output_mode != "int":
            lookup._depth()
        spans = self._spans(inputs)
        if spans is not None:  # the whole batch split and looked up at once
            (buf, starts, ends, lengths), batch_shape = spans
            flat = lookup.lookup_spans(buf, starts, ends)
            return self._rows_out(lookup, flat, lengths, batch_shape)
        tokens, batch_shape = self.preprocess(inputs)
        if batch_shape is None and not isinstance(tokens, list):  # no split: dense tokens
            ids = lookup.lookup(tokens)
            if self._output_mode != "int":
                return lookup.encode(ids)
            return self._fit_length(ids)
        lengths = np.asarray([len(r) for r in tokens], np.int64)
        flat = lookup.lookup(list(itertools.chain.from_iterable(tokens)))
        return self._rows_out(lookup, flat, lengths, batch_shape)

    def _spans(self, inputs):
        """`(utf8_spans(...), batch_shape)` for str inputs of rank 1 (or `(batch, 1)`),
        the built-in standardizations, the `"whitespace"` split and no n-grams (None
        otherwise, or when a string needs the string-by-string path)."""
        if self._split != "whitespace" or callable(self._standardize) or self._ngrams:
            return None
        found = string_ops.flat_strings(inputs)
        if found is None:
            return None
        strings, shape = found
        if len(shape) > 1 and shape[-1] == 1:
            shape = shape[:-1]
        if len(shape) > 1:
            return None  # (the string-by-string path raises Keras' rank error)
        spans = string_ops.utf8_spans(strings, self._standardize, split=True)
        return None if spans is None else (spans, shape)

    def _rows_out(self, lookup, flat, lengths, batch_shape):
        """Ragged ids (flat, with row lengths) padded (`"int"`) or encoded."""
        if self._output_mode != "int":
            out = lookup.encode((flat, lengths))
        else:
            out = _pad_rows(flat, lengths, self._output_sequence_length)
        return out.reshape(tuple(batch_shape) + out.shape[-1:])

    def _fit_length(self, ids):  # dense tokens (split=None): pad or cut the last axis
        length = self._output_sequence_length
        if length is None or ids.ndim == 0:
            return ids
        ids = ids[..., :length]
        pad = [(0, 0)] * (ids.ndim - 1) + [(0, length - ids.shape[-1])]
        return np.pad(ids, pad)

    def host_output_spec(self, inputs):
        """The symbolic output for a symbolic input (Keras' `compute_output_shape`)."""
        shape = tuple(inputs.shape)
        if self._split is not None and len(shape) > 1:
            shape = shape[:-1]  # the (batch, 1) strings' last axis goes away in the split
        length = self._output_sequence_length
        if self._output_mode == "int":
            if self._split is None and shape:  # tokens along the last axis
                last = shape[-1] if self._ngrams is None else None
                return HostSpec(shape[:-1] + (last if length is None else length,),
                                int_dtype())
            return HostSpec(shape + (length,), int_dtype())
        if self._split is None:
            shape = shape + (1,) if len(shape) <= 1 else shape
        else:
            shape = shape + (None,)
        lookup = self._lookup_layer
        depth = lookup.max_tokens if lookup.pad_to_max_tokens else lookup._frozen_vocab_size
        return HostSpec(encoded_shape(shape, self._output_mode, depth),
                        "float32" if self._output_mode == "tf_idf" else int_dtype())

    def forward(self, params, state, inputs, training=False, rng=None, **kwargs):
        if applied_in_pipeline(self, inputs):
            return inputs, state
        refuse_traced(self, inputs)
        out = self.host_call(inputs)
        return jnp.asarray(out, jax.dtypes.canonicalize_dtype(out.dtype)), state

    # ------------------------------------------------------------------- vocabulary --
    def adapt(self, data, batch_size=None, steps=None):
        """Learns the vocabulary from strings: an array or list (one document per
        string), or an iterable of batches (a generator, a dataset); `steps` limits it."""
        self.reset_state()
        if _is_stream(data):
            for batch in itertools.islice(data, steps):  # no batch read beyond `steps`
                self.update_state(batch)
        else:
            arr = string_ops.as_str_array(data, self._encoding,
                                          what=f"strings for TextVectorization '{self.name}'")
            self.update_state(arr[:, None] if arr.ndim == 1 else arr)
        self.finalize_state()

    def update_state(self, data):
        """Counts the tokens of one batch of strings."""
        arr = string_ops.as_str_array(data, self._encoding,
                                      what=f"strings for TextVectorization '{self.name}'")
        if (self._split == "whitespace" and not callable(self._standardize)
                and self._ngrams is None and self._output_mode != "tf_idf"
                and (arr.ndim <= 1 or arr.shape[-1] == 1)):
            # only token counts are kept: all tokens in one list, one split in C
            self._lookup_layer.update_state(
                [string_ops.standardized_tokens(arr.reshape(-1).tolist(), self._standardize)])
            return
        self._lookup_layer.update_state(self.preprocess(arr)[0])

    def finalize_state(self):
        self._lookup_layer.finalize_state()

    def reset_state(self):
        self._lookup_layer.reset_state()

    def get_vocabulary(self, include_special_tokens=True):
        """The vocabulary (index i is the term the layer maps to i)."""
        return self._lookup_layer.get_vocabulary(include_special_tokens)

    def vocabulary_size(self):
        """The vocabulary's size, including the padding and OOV indices."""
        return self._lookup_layer.vocabulary_size()

    def set_vocabulary(self, vocabulary, idf_weights=None):
        """Sets the vocabulary (and IDF weights for `"tf_idf"`), as `StringLookup` does."""
        self._lookup_layer.set_vocabulary(vocabulary, idf_weights=idf_weights)

    # ---------------------------------------------------------------------- saving --
    @property
    def compute_dtype(self):
        """`"string"`, as Keras reports it: the layer takes raw terms."""
        return "string"

    @property
    def variable_dtype(self):
        return "string"

    @property
    def dtype(self):
        return "string"

    def get_config(self):
        lookup = self._lookup_layer
        config = {
            "max_tokens": lookup.max_tokens, "standardize": self._standardize,
            "split": self._split, "ngrams": self._ngrams_arg,
            "output_mode": self._output_mode,
            "output_sequence_length": self._output_sequence_length,
            "pad_to_max_tokens": lookup.pad_to_max_tokens, "sparse": lookup.sparse,
            "ragged": self._ragged, "vocabulary": lookup.get_config()["vocabulary"],
            "idf_weights": lookup.get_config()["idf_weights"], "encoding": self._encoding,
            "vocabulary_size": self.vocabulary_size(),
        }
        return {**super().get_config(), **config}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("standardize", "split"):
            if config.get(key) is not None and not isinstance(config[key], str):
                config[key] = serialization_lib.deserialize_keras_object(config[key])
        if isinstance(config.get("ngrams"), list):
            config["ngrams"] = tuple(config["ngrams"])
        return super().from_config(config)

    def save_own_variables(self, store):
        self._lookup_layer.save_own_variables(store)

    def _keras_saved_children(self):
        """Keras' saver also visits the inner lookup layer (its assets and IDF)."""
        return {"_lookup_layer": self._lookup_layer}

    def own_variable_shapes(self):
        return self._lookup_layer.own_variable_shapes()

    def load_own_variables(self, store):
        self._lookup_layer.load_own_variables(store)

    def save_assets(self, dir_path):
        self._lookup_layer.save_assets(dir_path)

    def load_assets(self, dir_path):
        self._lookup_layer.load_assets(dir_path)
