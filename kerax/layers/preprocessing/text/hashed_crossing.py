"""`HashedCrossing`: crosses of categorical features hashed into bins, on the host.

TensorFlow's `sparse.cross_hashed` fingerprints each feature (FarmHash `Fingerprint64`
of a string, the int64 value itself for an integer), chains them with
`FingerprintCat64` starting from the key `0xDECAFCAFFE`, and takes the result modulo
the number of bins. On integer inputs it also runs inside a trace (`traced_cross_bins`,
the same bits in pairs of uint32 words), which is how a FeatureSpace's crosses of its
lookups' ids run in the compiled step.
"""

import jax
import jax.numpy as jnp
import numpy as np

from kerax.errors import unknown_identifier
from kerax.layers.layer import Layer
from kerax.layers.preprocessing.category_encoding import encode
from kerax.layers.preprocessing.hashing import fingerprint64
from kerax.layers.preprocessing.text import string_ops
from kerax.layers.preprocessing.text.host import (
    HostSpec, applied_in_pipeline, int_dtype, refuse_traced)

_M = (1 << 64) - 1
_MUL = 0xC6A4A7935BD1E995
DEFAULT_HASH_KEY = 0xDECAFCAFFE


def _shift_mix(v):
    return v ^ (v >> 47)


def fingerprint_cat64(fp1, fp2):
    """TensorFlow's `FingerprintCat64`: combines two 64-bit fingerprints (unsigned ints).

    Example:
    >>> fingerprint_cat64(1, 2) == fingerprint_cat64(1, 2) != fingerprint_cat64(2, 1)
    True
    """
    result = fp1 ^ _MUL
    result ^= (_shift_mix((fp2 * _MUL) & _M) * _MUL) & _M
    result = (result * _MUL) & _M
    result = (_shift_mix(result) * _MUL) & _M
    return _shift_mix(result)


def _feature_hash(value):
    if isinstance(value, str):
        return fingerprint64(string_ops.to_bytes(value))
    return int(value) & _M  # an int64 as the unsigned bits TensorFlow reads


def cross_hash(features, num_bins, hash_key=DEFAULT_HASH_KEY):
    """The bin of one crossed example (`features`: its values, str or int, in order)."""
    out = hash_key
    for value in features:
        out = fingerprint_cat64(out, _feature_hash(value))
    return out % num_bins


# The same hash on traced integers, in pairs of uint32 words (JAX has no uint64 without x64).
_MUL_HI, _MUL_LO = _MUL >> 32, _MUL & 0xFFFFFFFF


def _mul32(a, b):
    """Full 64-bit product of uint32 arrays `a * b`, as (high, low) words."""
    a0, a1, b0, b1 = a & 0xFFFF, a >> 16, b & 0xFFFF, b >> 16
    p00, p01, p10, p11 = a0 * b0, a0 * b1, a1 * b0, a1 * b1
    mid = (p00 >> 16) + (p01 & 0xFFFF) + (p10 & 0xFFFF)
    return p11 + (p01 >> 16) + (p10 >> 16) + (mid >> 16), (p00 & 0xFFFF) | (mid << 16)


def _mul_const(v):
    """`v * _MUL` modulo 2**64 on (high, low) words."""
    high, low = v
    hi, lo = _mul32(low, jnp.uint32(_MUL_LO))
    return hi + high * jnp.uint32(_MUL_LO) + low * jnp.uint32(_MUL_HI), lo


def _shift_mix_words(v):
    return v[0], v[1] ^ (v[0] >> 15)  # v ^ (v >> 47)


def _cat64_words(fp1, fp2):
    """`fingerprint_cat64` on (high, low) uint32 words."""
    result = (fp1[0] ^ jnp.uint32(_MUL_HI), fp1[1] ^ jnp.uint32(_MUL_LO))
    mixed = _mul_const(_shift_mix_words(_mul_const(fp2)))
    result = (result[0] ^ mixed[0], result[1] ^ mixed[1])
    result = _mul_const(_shift_mix_words(_mul_const(result)))
    return _shift_mix_words(result)


def _mod_words(v, n):
    """`v % n` of (high, low) words, for 0 < n < 2**31: 16 bits at a time, each step
    doubling a remainder below n (so nothing passes 2**32)."""
    r = jnp.zeros_like(v[1])
    for limb in (v[0] >> 16, v[0] & 0xFFFF, v[1] >> 16, v[1] & 0xFFFF):
        for _ in range(16):
            r = r * 2
            r = jnp.where(r >= n, r - n, r)
        r = (r + limb) % jnp.uint32(n)
    return r


def traced_cross_bins(arrays, num_bins, hash_key=DEFAULT_HASH_KEY):
    """`cross_hash` of integer arrays inside a trace: each int as its int64 bits (signed
    values sign-extended, as TensorFlow reads an int64).

    Example:
    >>> a, b = np.array([3, -7]), np.array([101, 2**31 - 1])
    >>> [int(v) for v in jax.jit(lambda a, b: traced_cross_bins([a, b], 97))(a, b)] == [
    ...     cross_hash(pair, 97) for pair in zip(a.tolist(), b.tolist())]
    True
    """
    out = (jnp.full(arrays[0].shape, hash_key >> 32, jnp.uint32),
           jnp.full(arrays[0].shape, hash_key & 0xFFFFFFFF, jnp.uint32))
    for a in arrays:
        a = jnp.asarray(a)
        high = jnp.where(a < 0, jnp.uint32(0xFFFFFFFF), jnp.uint32(0)) \
            if jnp.issubdtype(a.dtype, jnp.signedinteger) else jnp.zeros(a.shape, jnp.uint32)
        out = _cat64_words(out, (high, a.astype(jnp.uint32)))
    return _mod_words(out, num_bins)


class HashedCrossing(Layer):
    """Crosses two or more categorical features and hashes the cross into `num_bins`.

    Runs on the host (integer inputs also inside `jit`). Each input is a batch of strings
    or integers of shape `()`, `(batch,)` or `(batch, 1)`; the bins equal Keras'
    (TensorFlow's `cross_hashed`).

    Args:
        num_bins: the number of hash bins.
        output_mode: `"int"` (bin ids) or `"one_hot"`.
        sparse: must be False (kerax's arrays are dense).

    Example:
    >>> layer = HashedCrossing(num_bins=5)
    >>> layer([np.array(["A", "B"]), np.array([101, 102])]).shape
    (2,)
    """

    def __init__(self, num_bins, output_mode="int", sparse=False, name=None, dtype=None,
                 **kwargs):
        if output_mode == "int" and dtype is None:
            dtype = "int64"
        super().__init__(name=name, dtype=dtype, autocast=False, **kwargs)
        if sparse:
            raise ValueError("`sparse=True` can only be used with the TensorFlow backend "
                             "(kerax's arrays are dense). Use `sparse=False`.")
        if output_mode not in ("int", "one_hot"):
            raise unknown_identifier("output_mode", output_mode, ("int", "one_hot"))
        self.num_bins, self.output_mode, self.sparse = num_bins, output_mode, sparse

    def _check(self, inputs):
        if not isinstance(inputs, (list, tuple)):
            raise ValueError("`HashedCrossing` should be called on a list or tuple of inputs. "
                             f"Received: inputs={inputs}")
        if len(inputs) < 2:
            raise ValueError("`HashedCrossing` should be called on at least two inputs. "
                             f"Received: inputs={inputs}")
        arrays = [np.asarray(x) for x in inputs]
        shape = arrays[0].shape
        if len(shape) > 2 or (len(shape) == 2 and shape[-1] != 1):
            raise ValueError("All `HashedCrossing` inputs should have shape `()`, "
                             f"`(batch_size)` or `(batch_size, 1)`. Received shapes "
                             f"{[a.shape for a in arrays]}")
        if any(a.shape != shape for a in arrays[1:]):
            raise ValueError("All `HashedCrossing` inputs should have equal shape. "
                             f"Received shapes {[a.shape for a in arrays]}")
        for a in arrays:
            if a.dtype.kind not in "iuUSO":
                raise ValueError("All `HashedCrossing` inputs should have an integer or "
                                 f"string dtype. Received dtypes {[x.dtype for x in arrays]}")
        return [string_ops.as_str_array(a) if a.dtype.kind in "USO" else a.astype(np.int64)
                for a in arrays]

    def hash_to_bins(self, inputs):
        """Bin ids (NumPy int64) of host inputs, before output encoding."""
        arrays = self._check(inputs)
        columns = [a.reshape(-1).tolist() for a in arrays]
        bins = [cross_hash(values, self.num_bins) for values in zip(*columns)]
        return np.asarray(bins, np.int64).reshape(arrays[0].shape)

    def host_call(self, inputs):
        """The layer on host values, as NumPy (what `__call__` returns, before JAX)."""
        ids = self.hash_to_bins(inputs)
        if self.output_mode == "int":
            return ids.astype(jax.dtypes.canonicalize_dtype(self.dtype))
        return np.asarray(encode(jnp.asarray(ids, "int32"), "one_hot", self.num_bins,
                                 self.compute_dtype))

    def host_output_spec(self, inputs):
        """The symbolic output for symbolic inputs (Keras' `compute_output_shape`)."""
        shape = tuple(inputs[0].shape)
        if self.output_mode == "int":
            return HostSpec(shape, int_dtype() if self.dtype == "int64" else self.dtype)
        if shape and shape[-1] == 1:
            shape = shape[:-1]
        return HostSpec(shape + (self.num_bins,), self.compute_dtype)

    def forward(self, params, state, inputs, training=False, rng=None, **kwargs):
        if applied_in_pipeline(self, inputs):  # the pipeline put the bins in the first slot
            return inputs[0], state
        if _traced_integers(inputs):  # (a FeatureSpace's crosses of its lookups' ids)
            return self._traced_call(inputs), state
        refuse_traced(self, inputs)
        return jnp.asarray(self.host_call(inputs)), state

    def _traced_call(self, inputs):
        """The layer on traced integer inputs, in XLA (equal to `host_call`)."""
        shape = inputs[0].shape
        if len(shape) > 2 or (len(shape) == 2 and shape[-1] != 1) or \
                any(x.shape != shape for x in inputs[1:]):
            raise ValueError("All `HashedCrossing` inputs should have equal shape `()`, "
                             "`(batch_size)` or `(batch_size, 1)`. Received shapes "
                             f"{[tuple(x.shape) for x in inputs]}")
        if not 0 < self.num_bins < 2 ** 31:
            raise ValueError(f"HashedCrossing '{self.name}' crosses traced integers into "
                             f"fewer than 2**31 bins; received num_bins={self.num_bins}.")
        ids = traced_cross_bins(inputs, self.num_bins)
        if self.output_mode == "int":
            return ids.astype(jax.dtypes.canonicalize_dtype(self.dtype))
        return encode(ids.astype("int32"), "one_hot", self.num_bins, self.compute_dtype)

    def get_config(self):
        return {"num_bins": self.num_bins, "output_mode": self.output_mode,
                "sparse": self.sparse, "name": self.name, "dtype": self.dtype}


def _traced_integers(inputs):
    leaves = jax.tree_util.tree_leaves(inputs)
    return isinstance(inputs, (list, tuple)) and len(inputs) >= 2 and \
        any(isinstance(x, jax.core.Tracer) for x in leaves) and \
        all(jnp.issubdtype(x.dtype, jnp.integer) for x in leaves)
