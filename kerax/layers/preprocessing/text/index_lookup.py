"""`IndexLookup`: the host-side vocabulary table under `StringLookup` and `IntegerLookup`.

Keras builds a TensorFlow hash table; here the table is a Python dict on the layer (it
is configuration the layer learned, like Keras' table, not a JAX variable), so lookups
run on the host, before the compiled step; string batches are looked up all at once in
a NumPy copy of it (`token_table.TokenTable`). Index layout, as Keras: the mask token (only
in `"int"` mode) at 0, then `num_oov_indices` OOV slots, then the vocabulary.
"""

import itertools
import os

import jax
import jax.numpy as jnp
import numpy as np

from kerax.errors import unknown_identifier
from kerax.layers.layer import Layer
from kerax.layers.preprocessing.hashing import fingerprint64, siphash64
from kerax.layers.preprocessing.text import vocabulary as vocab_lib
from kerax.layers.preprocessing.text.encoding import encode_ids
from kerax.layers.preprocessing.text.host import (
    HostSpec, applied_in_pipeline, encoded_shape, int_dtype, refuse_traced)
from kerax.layers.preprocessing.text.token_table import TokenTable
from kerax.serialization import serialization_lib

OUTPUT_MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")
_MASK_SENTINEL = np.iinfo(np.int64).max  # Keras' mask value outside "int" mode: dropped


def _listify(x):
    if isinstance(x, (np.ndarray, jax.Array)):
        return np.asarray(x).tolist()
    if isinstance(x, tuple):
        return list(x)
    return x


class IndexLookup(Layer):
    """Maps tokens to indices through a vocabulary (base of StringLookup/IntegerLookup).

    Subclasses set how keys are read (`_keys`) and hashed for OOV buckets (`_oov_hash`).
    """

    def __init__(self, max_tokens, num_oov_indices, mask_token, oov_token,
                 vocabulary_dtype, vocabulary=None, idf_weights=None, invert=False,
                 output_mode="int", sparse=False, pad_to_max_tokens=False,
                 oov_method="floormod", name=None, salt=None, **kwargs):
        if max_tokens is not None and max_tokens <= 1:
            raise ValueError("If set, `max_tokens` must be greater than 1. "
                             f"Received: max_tokens={max_tokens}")
        if pad_to_max_tokens and max_tokens is None:
            raise ValueError("If pad_to_max_tokens is True, must set `max_tokens`. "
                             f"Received: max_tokens={max_tokens}")
        if num_oov_indices < 0:
            raise ValueError("`num_oov_indices` must be greater than or equal to 0. "
                             f"Received: num_oov_indices={num_oov_indices}")
        if oov_method not in ("floormod", "farmhash"):
            raise unknown_identifier("oov_method", oov_method, ("floormod", "farmhash"))
        if salt is not None:
            if vocabulary_dtype == "int64" and oov_method != "farmhash":
                raise ValueError("`salt` can only be used when `oov_method='farmhash'`. "
                                 f"Received: oov_method={oov_method}")
            if isinstance(salt, (tuple, list)) and len(salt) == 2:
                salt = [int(s) for s in salt]
            elif isinstance(salt, int):
                salt = [salt, salt]
            else:
                raise ValueError("The `salt` argument for `IndexLookup` can only be a tuple "
                                 f"of 2 integers, or a single integer. Received: salt={salt}.")
        output_mode = {"binary": "multi_hot", "tf-idf": "tf_idf"}.get(output_mode, output_mode)
        if output_mode not in OUTPUT_MODES:
            raise unknown_identifier("output_mode", output_mode, OUTPUT_MODES)
        if invert and output_mode != "int":
            raise ValueError("`output_mode` must be `'int'` when `invert` is true. "
                             f"Received: output_mode={output_mode}")
        if sparse:
            raise ValueError("`sparse=True` can only be used with the TensorFlow backend "
                             "(kerax's arrays are dense). Use `sparse=False`.")
        if idf_weights is not None and output_mode != "tf_idf":
            raise ValueError("`idf_weights` should only be set if `output_mode` is "
                             f"`'tf_idf'`. Received: idf_weights={idf_weights} and "
                             f"output_mode={output_mode}")
        frozen = kwargs.pop("vocabulary_size", None)
        has_input_vocabulary = kwargs.pop("has_input_vocabulary", vocabulary is not None)
        kwargs.pop("trainable", None)
        kwargs.pop("dtype", None)
        if kwargs:
            raise ValueError(f"Unrecognized keyword argument(s): {kwargs}")
        super().__init__(name=name, autocast=False)
        self.invert, self.max_tokens = invert, max_tokens
        self.num_oov_indices, self.mask_token, self.oov_token = num_oov_indices, mask_token, oov_token
        self.output_mode, self.sparse = output_mode, sparse
        self.pad_to_max_tokens, self.vocabulary_dtype = pad_to_max_tokens, vocabulary_dtype
        self.oov_method, self.salt = oov_method, salt
        self._frozen_vocab_size = frozen
        self.input_vocabulary = vocabulary if not isinstance(vocabulary, str) else None
        self.input_idf_weights = idf_weights
        self._has_input_vocabulary = has_input_vocabulary
        self._set_tokens([])
        self._idf = None
        if output_mode == "tf_idf":
            if has_input_vocabulary and idf_weights is None:
                raise ValueError("When specifying the `vocabulary` argument, in TF-IDF output "
                                 "mode, the `idf_weights` argument must also be provided.")
            if idf_weights is not None:
                self._idf = np.asarray(idf_weights, np.float32)
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)
        self._counts = None if has_input_vocabulary else vocab_lib.TokenCounts(
            documents=output_mode == "tf_idf")

    # ------------------------------------------------------------------- vocabulary --
    def _oov_start_index(self):
        return 1 if self.mask_token is not None and self.output_mode == "int" else 0

    def _token_start_index(self):
        return self._oov_start_index() + self.num_oov_indices

    def vocabulary_size(self):
        """The size of the vocabulary, including the mask and OOV indices."""
        return len(self._tokens) + self._token_start_index()

    def get_vocabulary(self, include_special_tokens=True):
        """The vocabulary: a term's index in it is the index the layer gives the term.

        Args:
            include_special_tokens: if False, leave out the mask and OOV tokens.
        """
        vocab = [self.oov_token] * self._token_start_index() + list(self._tokens)
        if self.mask_token is not None and self.output_mode == "int":
            vocab[0] = self.mask_token
        return vocab if include_special_tokens else vocab[self._token_start_index():]

    def _record_vocabulary_size(self):
        new = self.vocabulary_size()
        if not (self.output_mode == "int" or self.pad_to_max_tokens):
            if self._frozen_vocab_size is not None and new != self._frozen_vocab_size:
                raise RuntimeError(
                    f"When using `output_mode={self.output_mode}` and "
                    "`pad_to_max_tokens=False`, the vocabulary size cannot be changed after "
                    f"the layer is called. Old vocab size is {self._frozen_vocab_size}, new "
                    f"vocab size is {new}")
        self._frozen_vocab_size = new

    def _set_tokens(self, tokens):
        start = self._token_start_index()
        self._tokens = list(tokens)
        self._table = {t: i + start for i, t in enumerate(self._tokens)}
        self._masked_table = self._table if self.mask_token is None else {
            **self._table, self.mask_token: 0 if self.output_mode == "int" else _MASK_SENTINEL}
        self._inverse = {i + start: t for i, t in enumerate(self._tokens)}
        self._byte_table = None  # the `TokenTable` of `_masked_table`, built when used

    def _read_vocabulary_file(self, path):
        if serialization_lib.loading_in_safe_mode():
            raise ValueError(
                "Requested the loading of a vocabulary file outside of the model archive. "
                "This carries a potential risk of loading arbitrary and sensitive files and "
                "thus it is disallowed by default. If you trust the source of the artifact, "
                "you can override this error by passing `safe_mode=False` to the loading "
                "function, or calling `kerax.config.enable_unsafe_deserialization()`. "
                f"Vocabulary file: '{path}'")
        if not os.path.exists(path):
            raise ValueError(f"Vocabulary file {path} does not exist.")
        if self.output_mode == "tf_idf":
            raise ValueError("output_mode `'tf_idf'` does not support loading a vocabulary "
                             "from file.")
        with open(path, "rb") as f:
            lines = f.read().split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
        return [self._key_from_line(line) for line in lines]

    def set_vocabulary(self, vocabulary, idf_weights=None):
        """Sets the vocabulary (and, for `"tf_idf"`, the IDF weights) directly.

        Args:
            vocabulary: a list, tuple or 1D array of terms, or the path of a text file with
                one term per line. Mask and OOV tokens may lead it, in Keras' order.
            idf_weights: the inverse document frequencies (`"tf_idf"` only), one per term.
        """
        if self.output_mode == "tf_idf":
            if idf_weights is None:
                raise ValueError("`idf_weights` must be set if output_mode is 'tf_idf'.")
        elif idf_weights is not None:
            raise ValueError("`idf_weights` should only be set if output_mode is `'tf_idf'`. "
                             f"Received: output_mode={self.output_mode} and "
                             f"idf_weights={idf_weights}")
        if isinstance(vocabulary, (str, os.PathLike)):
            self._set_tokens(self._read_vocabulary_file(os.fspath(vocabulary)))
            self._record_vocabulary_size()
            return
        vocabulary = [self._key(v) for v in _listify(vocabulary)]
        if not vocabulary:
            raise ValueError(f"Cannot set an empty vocabulary. Received: vocabulary={vocabulary}")
        oov_start, token_start = self._oov_start_index(), self._token_start_index()
        special = [self.mask_token] * oov_start + [self.oov_token] * self.num_oov_indices
        found_special = vocabulary[:token_start] == special
        tokens = vocabulary[token_start:] if found_special else vocabulary
        seen, repeated = set(), []
        for t in tokens:
            if t in seen and t not in repeated:
                repeated.append(t)
            seen.add(t)
        if repeated:
            raise ValueError("The passed vocabulary has at least one repeated term. Please "
                             f"uniquify your dataset. The repeated terms are: {repeated}")
        for token, what in ((self.mask_token, "mask_token"),
                            (self.oov_token if self.invert else None, "oov_token")):
            if token is not None and token in seen:
                index = max(i for i, v in enumerate(vocabulary) if v == token)
                kind = "mask" if what == "mask_token" else "OOV"
                raise ValueError(
                    f"Found reserved {kind} token at unexpected location in `vocabulary`. "
                    "Note that passed `vocabulary` does not need to include the OOV and mask "
                    "tokens. Either remove all mask and OOV tokens, or include them only at "
                    f"the start of the vocabulary in precisely this order: {special}. "
                    f"Received: {what}={token} at vocabulary index [{index}]")
        size = token_start + len(tokens)
        if self.max_tokens is not None and size > self.max_tokens:
            raise ValueError("Attempted to set a vocabulary larger than the maximum vocab "
                             f"size. Received vocabulary size is {size}; `max_tokens` is "
                             f"{self.max_tokens}.")
        self._set_tokens(tokens)
        self._record_vocabulary_size()
        if self.output_mode == "tf_idf":
            idf = np.asarray(_listify(idf_weights), np.float64)
            if idf.ndim != 1 or len(idf) != len(vocabulary):
                raise ValueError("`idf_weights` must be the same length as vocabulary. "
                                 f"len(idf_weights) is {idf.size}; len(vocabulary) is "
                                 f"{len(vocabulary)}")
            front, front_value = (0, 0.0) if found_special else (token_start, np.average(idf))
            back = (self.max_tokens - front - len(idf)
                    if self.pad_to_max_tokens and self.max_tokens is not None else 0)
            self._idf = np.pad(idf, (front, back), constant_values=(front_value, 0)).astype(
                np.float32)

    # ------------------------------------------------------------------------ adapt --
    def adapt(self, data, steps=None):
        """Learns the vocabulary (and document frequencies) from data.

        Args:
            data: an array or list of tokens (each row one document), or an iterable of
                batches (a generator, a dataset).
            steps: the number of batches to read from an iterable.
        """
        self.reset_state()
        if _is_stream(data):
            for batch in itertools.islice(data, steps):  # no batch read beyond `steps`
                self.update_state(batch)
        else:
            keys = self._keys(data)
            self.update_state(keys[:, None] if keys.ndim == 1 else keys)
        self.finalize_state()

    def update_state(self, data):
        """Counts the tokens of one batch (a 1D batch is one document, as in Keras)."""
        if self._has_input_vocabulary:
            raise ValueError(f"Cannot adapt layer '{self.name}' after setting a static "
                             "vocabulary via `vocabulary` argument or `set_vocabulary()` method.")
        if isinstance(data, list) and data and all(isinstance(r, list) for r in data):
            rows = data  # ragged rows (TextVectorization)
        else:
            keys = self._keys(data)
            if self._counts.document_counts is None:  # counts only: one flat row
                rows = [keys.reshape(-1).tolist()]
            else:
                keys = keys.reshape(1, -1) if keys.ndim <= 1 else keys
                rows = [r.reshape(-1).tolist() for r in keys]
        self._counts.update(rows)

    def finalize_state(self):
        """Builds the vocabulary from the counts `update_state` gathered."""
        if self._has_input_vocabulary or not len(self._counts):
            self._record_vocabulary_size()
            return
        start = self._token_start_index()
        limit = self.max_tokens - start if self.max_tokens else None
        tokens = self._counts.ordered(
            exclude={t for t in (self.mask_token, self.oov_token) if t is not None}, limit=limit)
        self._set_tokens(tokens)
        if self.output_mode == "tf_idf":
            total = self.max_tokens if self.pad_to_max_tokens else None
            self._idf = vocab_lib.pad_idf(self._counts.idf(tokens), start, total)
        self.reset_state()
        self._record_vocabulary_size()

    def reset_state(self):
        """Forgets the counts of an unfinished `adapt`."""
        if not self._has_input_vocabulary:
            self._counts = vocab_lib.TokenCounts(documents=self.output_mode == "tf_idf")

    # ------------------------------------------------------------------------ lookup --
    def _oov_indices(self, keys):
        n = self.num_oov_indices
        if self.vocabulary_dtype == "int64" and self.oov_method != "farmhash":
            return [k % n for k in keys]
        data = [self._key_bytes(k) for k in keys]
        if self.salt is not None:
            return [siphash64(self.salt, d) % n for d in data]
        return [fingerprint64(d) % n for d in data]

    def lookup(self, keys):
        """Indices (NumPy int64) of keys (a NumPy object array of keys, any shape, or a
        flat list of keys)."""
        flat = keys if isinstance(keys, list) else keys.reshape(-1).tolist()
        table = self._masked_table  # the mask's index comes with the same lookup
        ids = np.fromiter(map(table.get, flat, itertools.repeat(-1)), np.int64,
                          count=len(flat))
        ids = self._fill_oov(ids, lambda where: [flat[i] for i in where])
        return ids if isinstance(keys, list) else ids.reshape(keys.shape)

    def lookup_spans(self, buf, starts, ends):
        """Indices (NumPy int64) of the string tokens `buf[start:end]` of a UTF-8 buffer
        (see `string_ops.utf8_spans`), looked up all at once in NumPy."""
        if self._byte_table is None:
            self._byte_table = TokenTable(self._masked_table)
        ids = self._byte_table.lookup(buf, starts, ends)
        return self._fill_oov(ids, lambda where: [
            buf[s:e].decode("utf-8", "surrogateescape")
            for s, e in zip(starts[where].tolist(), ends[where].tolist())])

    def _fill_oov(self, ids, keys_at):
        """`ids` with each miss (-1) replaced by its OOV index; `keys_at(where)` gives the
        keys of the misses at positions `where`."""
        where = np.flatnonzero(ids == -1)
        if not where.size:
            return ids
        if self.num_oov_indices == 0:
            raise ValueError("When `num_oov_indices=0` all inputs should be in vocabulary, "
                             f"found OOV values {keys_at(where)}, consider setting "
                             "`num_oov_indices=1`.")
        if self.num_oov_indices == 1:
            ids[where] = self._oov_start_index()
        else:
            ids[where] = np.asarray(self._oov_indices(keys_at(where)),
                                    np.int64) + self._oov_start_index()
        return ids

    def invert_lookup(self, ids):
        """Tokens of indices (the inverse table): OOV and unknown indices give `oov_token`."""
        ids = np.asarray(ids)
        if ids.dtype.kind not in "iu":
            raise TypeError(f"{type(self).__name__} '{self.name}' with `invert=True` expects "
                            f"integer indices, received values of dtype {ids.dtype}.")
        flat = ids.reshape(-1).tolist()
        inverse, oov = self._inverse, self.oov_token
        out = [inverse.get(i, oov) for i in flat]
        if self.mask_token is not None:
            out = [self.mask_token if i == 0 else t for i, t in zip(flat, out)]
        return self._token_array(out, ids.shape)

    def _depth(self):
        if self.pad_to_max_tokens:
            return self.max_tokens
        if self._frozen_vocab_size is None:
            raise RuntimeError(
                f"When using `output_mode={self.output_mode}` and `pad_to_max_tokens=False`, "
                "you must set the layer's vocabulary before calling it. Either pass a "
                "`vocabulary` argument to the layer, or call `adapt` with some sample data.")
        return self._frozen_vocab_size

    def encode(self, ids):
        """Ids (an array, or ragged rows) encoded as `output_mode` asks (NumPy)."""
        if self.output_mode == "int":
            return ids
        if self.output_mode == "tf_idf" and self._idf is None:
            raise ValueError("When `output_mode` is `'tf_idf'`, `idf_weights` must be provided.")
        return encode_ids(ids, self.output_mode, self._depth(), self._idf)

    def host_call(self, inputs):
        """The layer on host values, as NumPy (what `__call__` returns, before JAX)."""
        if self.invert:
            return self.invert_lookup(inputs)
        if self.output_mode != "int":
            self._depth()  # Keras checks that the vocabulary is known before looking up
        return self.encode(self._lookup_inputs(inputs))

    def _lookup_inputs(self, inputs):
        """The indices of host inputs, shaped as they are."""
        return self.lookup(self._keys(inputs))

    def forward(self, params, state, inputs, training=False, rng=None, **kwargs):
        if applied_in_pipeline(self, inputs):
            return inputs, state
        refuse_traced(self, inputs)
        out = self.host_call(inputs)
        if out.dtype.kind in "iuf":
            out = jnp.asarray(out, jax.dtypes.canonicalize_dtype(out.dtype))
        return out, state

    def host_output_spec(self, inputs):
        """The symbolic output for a symbolic input (Keras' `compute_output_spec`)."""
        if self.output_mode == "int":
            dtype = "string" if self.invert and self.vocabulary_dtype == "string" else int_dtype()
            return HostSpec(tuple(inputs.shape), dtype)
        depth = self.max_tokens if self.pad_to_max_tokens else self._frozen_vocab_size
        dtype = "float32" if self.output_mode == "tf_idf" else int_dtype()
        return HostSpec(encoded_shape(inputs.shape, self.output_mode, depth), dtype)

    # ------------------------------------------------------------------ saving --
    @property
    def compute_dtype(self):
        """The vocabulary's dtype (`"string"` or `"int64"`), as Keras reports it: the layer takes raw terms."""
        return self.vocabulary_dtype

    @property
    def variable_dtype(self):
        return self.vocabulary_dtype

    @property
    def dtype(self):
        return self.vocabulary_dtype

    def get_config(self):
        config = {
            "invert": self.invert, "max_tokens": self.max_tokens,
            "num_oov_indices": self.num_oov_indices, "oov_token": self.oov_token,
            "mask_token": self.mask_token, "output_mode": self.output_mode,
            "sparse": self.sparse, "pad_to_max_tokens": self.pad_to_max_tokens,
            "vocabulary_dtype": self.vocabulary_dtype,
            "idf_weights": _listify(self.input_idf_weights),
            "vocabulary": _listify(self.input_vocabulary),
            "vocabulary_size": self._frozen_vocab_size,
            "oov_method": self.oov_method, "salt": self.salt,
        }
        return {**super().get_config(), **config}

    def save_assets(self, dir_path):
        """Writes `vocabulary.txt` (Keras' asset), unless the vocabulary is in the config."""
        if self.input_vocabulary is not None:
            return
        with open(os.path.join(dir_path, "vocabulary.txt"), "w", encoding="utf-8") as f:
            f.write("\n".join(str(w) for w in self.get_vocabulary(include_special_tokens=True)))

    def load_assets(self, dir_path):
        """Reads the `vocabulary.txt` that `save_assets` (or Keras) wrote."""
        if self.input_vocabulary is not None:
            return
        with open(os.path.join(dir_path, "vocabulary.txt"), encoding="utf-8") as f:
            lines = f.read().splitlines()
        while lines and lines[-1] == "":
            lines.pop()
        values = [self._key_from_line(line) for line in lines]
        idf = self._idf[:len(values)] if self.output_mode == "tf_idf" else None
        self.set_vocabulary(values, idf_weights=idf)

    def save_own_variables(self, store):
        """Keras' `save_own_variables`: the IDF weights in `"tf_idf"` mode."""
        if self.output_mode == "tf_idf":
            store["idf_weights"] = np.asarray(self._idf)

    def own_variable_shapes(self):
        """The shapes `load_own_variables` expects (checked before a file is read)."""
        if self.output_mode != "tf_idf":
            return {}
        size = self.max_tokens if self.pad_to_max_tokens else self._frozen_vocab_size
        if size is None:
            raise ValueError(f"{type(self).__name__} '{self.name}': cannot load IDF weights "
                             "before the vocabulary size is known (set `vocabulary` or "
                             "`vocabulary_size`, or call `adapt`).")
        return {"idf_weights": (size,)}

    def load_own_variables(self, store):
        if self.output_mode == "tf_idf":
            self._idf = np.asarray(store["idf_weights"], np.float32)


def _is_stream(data):
    """An iterable of batches (generator, dataset), as opposed to one array or list."""
    return hasattr(data, "__iter__") and not isinstance(
        data, (list, tuple, np.ndarray, str, bytes, jax.Array))
