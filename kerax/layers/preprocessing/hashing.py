"""`Hashing`: strings or integers to hash bins, with TensorFlow's hash functions.

Keras hashes with TensorFlow's `Fingerprint64` (FarmHash, `farmhashna::Hash64`) and,
with a salt, with SipHash-2-4. Both are written here in plain Python over bytes, so the
bins match Keras' without TensorFlow. Hashing runs on the host: inputs must be concrete
values (NumPy arrays, lists, strings), not traced JAX values inside `jit`/`vmap`/`grad`.
"""

import numpy as np

import jax
import jax.numpy as jnp

from kerax.errors import unknown_identifier
from kerax.layers.layer import Layer
from kerax.layers.preprocessing.category_encoding import encode
from kerax.layers.preprocessing.text.host import HostSpec, applied_in_pipeline, encoded_shape

OUTPUT_MODES = ("int", "one_hot", "multi_hot", "count")
_M = (1 << 64) - 1
_K0, _K1, _K2 = 0xC3A5C85C97CB3127, 0xB492B66FBE98F273, 0x9AE16A3B2F90404F


def _fetch64(s, i):
    return int.from_bytes(s[i:i + 8], "little")


def _fetch32(s, i):
    return int.from_bytes(s[i:i + 4], "little")


def _rot(v, r):
    return ((v >> r) | (v << (64 - r))) & _M if r else v


def _shift_mix(v):
    return v ^ (v >> 47)


def _len16(u, v, mul):
    a = ((u ^ v) * mul) & _M
    a ^= a >> 47
    b = ((v ^ a) * mul) & _M
    b ^= b >> 47
    return (b * mul) & _M


def _len0to16(s):
    n = len(s)
    if n >= 8:
        mul = _K2 + n * 2
        a = (_fetch64(s, 0) + _K2) & _M
        b = _fetch64(s, n - 8)
        c = (_rot(b, 37) * mul + a) & _M
        d = ((_rot(a, 25) + b) * mul) & _M
        return _len16(c, d, mul)
    if n >= 4:
        mul = _K2 + n * 2
        return _len16(n + (_fetch32(s, 0) << 3), _fetch32(s, n - 4), mul)
    if n > 0:
        y = (s[0] + (s[n >> 1] << 8)) & 0xFFFFFFFF
        z = (n + (s[n - 1] << 2)) & 0xFFFFFFFF
        return (_shift_mix(((y * _K2) ^ (z * _K0)) & _M) * _K2) & _M
    return _K2


def _len17to32(s):
    n = len(s)
    mul = _K2 + n * 2
    a = (_fetch64(s, 0) * _K1) & _M
    b = _fetch64(s, 8)
    c = (_fetch64(s, n - 8) * mul) & _M
    d = (_fetch64(s, n - 16) * _K2) & _M
    return _len16((_rot((a + b) & _M, 43) + _rot(c, 30) + d) & _M,
                  (a + _rot((b + _K2) & _M, 18) + c) & _M, mul)


def _len33to64(s):
    n = len(s)
    mul = _K2 + n * 2
    a = (_fetch64(s, 0) * _K2) & _M
    b = _fetch64(s, 8)
    c = (_fetch64(s, n - 8) * mul) & _M
    d = (_fetch64(s, n - 16) * _K2) & _M
    y = (_rot((a + b) & _M, 43) + _rot(c, 30) + d) & _M
    z = _len16(y, (a + _rot((b + _K2) & _M, 18) + c) & _M, mul)
    e = (_fetch64(s, 16) * mul) & _M
    f = _fetch64(s, 24)
    g = ((y + _fetch64(s, n - 32)) * mul) & _M
    h = ((z + _fetch64(s, n - 24)) * mul) & _M
    return _len16((_rot((e + f) & _M, 43) + _rot(g, 30) + h) & _M,
                  (e + _rot((f + a) & _M, 18) + g) & _M, mul)


def _weak32(s, i, a, b):
    w, x, y, z = (_fetch64(s, i + 8 * j) for j in range(4))
    a = (a + w) & _M
    b = _rot((b + a + z) & _M, 21)
    c = a
    a = (a + x + y) & _M
    b = (b + _rot(a, 44)) & _M
    return (a + z) & _M, (b + c) & _M


def fingerprint64(data):
    """FarmHash `Fingerprint64` of bytes (TensorFlow's string fingerprint), an unsigned int.

    Example:
    >>> fingerprint64(b"hello") == fingerprint64("hello".encode())
    True
    >>> fingerprint64(b"") == 0x9AE16A3B2F90404F
    True
    """
    s = bytes(data)
    n = len(s)
    if n <= 16:
        return _len0to16(s)
    if n <= 32:
        return _len17to32(s)
    if n <= 64:
        return _len33to64(s)
    x, y = 81, (81 * _K1 + 113) & _M
    z = (_shift_mix((y * _K2 + 113) & _M) * _K2) & _M
    v, w = (0, 0), (0, 0)
    x = (x * _K2 + _fetch64(s, 0)) & _M
    end = ((n - 1) // 64) * 64
    last64 = end + ((n - 1) & 63) - 63
    i = 0
    while True:
        x = (_rot((x + y + v[0] + _fetch64(s, i + 8)) & _M, 37) * _K1) & _M
        y = (_rot((y + v[1] + _fetch64(s, i + 48)) & _M, 42) * _K1) & _M
        x ^= w[1]
        y = (y + v[0] + _fetch64(s, i + 40)) & _M
        z = (_rot((z + w[0]) & _M, 33) * _K1) & _M
        v = _weak32(s, i, (v[1] * _K1) & _M, (x + w[0]) & _M)
        w = _weak32(s, i + 32, (z + w[1]) & _M, (y + _fetch64(s, i + 16)) & _M)
        z, x = x, z
        i += 64
        if i == end:
            break
    mul = _K1 + ((z & 0xFF) << 1)
    i = last64
    w = ((w[0] + ((n - 1) & 63)) & _M, w[1])
    v = ((v[0] + w[0]) & _M, v[1])
    w = ((w[0] + v[0]) & _M, w[1])
    x = (_rot((x + y + v[0] + _fetch64(s, i + 8)) & _M, 37) * mul) & _M
    y = (_rot((y + v[1] + _fetch64(s, i + 48)) & _M, 42) * mul) & _M
    x ^= (w[1] * 9) & _M
    y = (y + v[0] * 9 + _fetch64(s, i + 40)) & _M
    z = (_rot((z + w[0]) & _M, 33) * mul) & _M
    v = _weak32(s, i, (v[1] * mul) & _M, (x + w[0]) & _M)
    w = _weak32(s, i + 32, (z + w[1]) & _M, (y + _fetch64(s, i + 16)) & _M)
    z, x = x, z
    return _len16((_len16(v[0], w[0], mul) + _shift_mix(y) * _K0 + z) & _M,
                  (_len16(v[1], w[1], mul) + x) & _M, mul)


def _rotl(v, r):
    return ((v << r) | (v >> (64 - r))) & _M


def siphash64(key, data):
    """SipHash-2-4 of bytes with a key of two unsigned 64-bit ints (TF's strong hash).

    Example:
    >>> siphash64([1, 2], b"a") == siphash64([1, 2], "a".encode())
    True
    """
    k0, k1 = (int(k) & _M for k in key)
    v = [k0 ^ 0x736F6D6570736575, k1 ^ 0x646F72616E646F6D,
         k0 ^ 0x6C7967656E657261, k1 ^ 0x7465646279746573]

    def rounds(count):
        for _ in range(count):
            v[0] = (v[0] + v[1]) & _M
            v[1] = _rotl(v[1], 13) ^ v[0]
            v[0] = _rotl(v[0], 32)
            v[2] = (v[2] + v[3]) & _M
            v[3] = _rotl(v[3], 16) ^ v[2]
            v[0] = (v[0] + v[3]) & _M
            v[3] = _rotl(v[3], 21) ^ v[0]
            v[2] = (v[2] + v[1]) & _M
            v[1] = _rotl(v[1], 17) ^ v[2]
            v[2] = _rotl(v[2], 32)

    s = bytes(data)
    n = len(s)
    tail = n - n % 8
    blocks = [_fetch64(s, i) for i in range(0, tail, 8)]
    blocks.append(int.from_bytes(s[tail:], "little") | ((n & 0xFF) << 56))
    for m in blocks:
        v[3] ^= m
        rounds(2)
        v[0] ^= m
    v[2] ^= 0xFF
    rounds(4)
    return v[0] ^ v[1] ^ v[2] ^ v[3]


def _as_bytes(value):
    """A value as TensorFlow's `as_string` writes it (bytes), for hashing."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    return str(int(value)).encode("ascii")


class Hashing(Layer):
    """Hashes strings or integers into `num_bins` bins, as Keras does (FarmHash64).

    Integers are hashed as their decimal strings (floats are first truncated to
    integers), like Keras. With `salt`, SipHash-2-4 keyed by the salt is used instead.
    Hashing happens on the host with NumPy: call the layer on concrete values (arrays,
    lists or strings), outside `jit`/`vmap`, e.g. in the input pipeline; calling it on
    traced values raises an error.

    Args:
        num_bins: number of bins, including the mask bin 0 when `mask_value` is set.
        mask_value: inputs equal to it go to bin 0 (the others to `1..num_bins-1`).
        salt: an int or a pair of ints: use SipHash with this key.
        output_mode: `"int"` (default: bin ids), `"one_hot"`, `"multi_hot"` or `"count"`
            (as in `CategoryEncoding`, over `num_bins`).
        sparse: must be False (JAX arrays are dense).

    Example:
    >>> Hashing(num_bins=3)([["A"], ["B"], ["C"], ["D"], ["E"]]).ravel().tolist()
    [1, 0, 1, 1, 2]
    >>> Hashing(num_bins=3, salt=133)([["A"], ["B"], ["C"]]).ravel().tolist()
    [0, 0, 2]
    """

    def __init__(self, num_bins, mask_value=None, salt=None, output_mode="int",
                 sparse=False, **kwargs):
        if kwargs.get("dtype") is None:
            kwargs["dtype"] = "int64" if output_mode == "int" else "float32"
        kwargs.setdefault("autocast", False)  # inputs are hashed as given, as in Keras
        if num_bins is None or num_bins <= 0:
            raise ValueError(
                "The `num_bins` for `Hashing` cannot be `None` or non-positive values. "
                f"Received: num_bins={num_bins}."
            )
        if output_mode not in OUTPUT_MODES:
            raise unknown_identifier("output_mode", output_mode, OUTPUT_MODES)
        if sparse:
            raise ValueError("Hashing: `sparse=True` is not supported by kerax (JAX arrays "
                             "are dense). Use `sparse=False`.")
        if salt is not None:
            if isinstance(salt, (tuple, list)) and len(salt) == 2:
                salt = [int(s) for s in salt]
            elif isinstance(salt, int):
                salt = [salt, salt]
            else:
                raise ValueError(
                    "The `salt` argument for `Hashing` can only be a tuple of size 2 "
                    f"integers, or a single integer. Received: salt={salt}."
                )
        super().__init__(**kwargs)
        if output_mode == "int" and self.dtype not in ("int32", "int64"):
            raise ValueError(
                'Hashing: when `output_mode="int"`, `dtype` should be an integer type, '
                f"'int32' or 'int64'. Received: dtype={kwargs['dtype']}"
            )
        self.num_bins, self.mask_value, self.salt = num_bins, mask_value, salt
        self.output_mode, self.sparse = output_mode, sparse

    def _hash(self, value):
        data = _as_bytes(value)
        return siphash64(self.salt, data) if self.salt else fingerprint64(data)

    def hash_to_bins(self, values):
        """Bin ids (NumPy int64) of host values, without output encoding."""
        values = np.asarray(values)
        if values.dtype.kind == "f":
            values = values.astype("int64")
        if values.dtype.kind not in "iuUSO":
            raise TypeError(
                "Hashing expects strings or integers (floats are truncated to integers). "
                f"Received values of dtype {values.dtype}."
            )
        bins = self.num_bins
        masked = None
        if self.mask_value is not None and bins > 1:
            bins -= 1
            masked = values == self.mask_value
        flat = [self._hash(v) % bins for v in values.ravel().tolist()]
        out = np.asarray(flat, np.int64).reshape(values.shape)
        if masked is not None:
            out = np.where(masked, 0, out + 1)
        return out

    def host_output_spec(self, inputs):
        """The symbolic output for a symbolic input (hashing cannot be traced)."""
        if self.output_mode == "int":
            return HostSpec(inputs.shape, jnp.dtype(jax.dtypes.canonicalize_dtype(
                self.dtype)).name)
        return HostSpec(encoded_shape(inputs.shape, self.output_mode, self.num_bins),
                        self.dtype)

    def forward(self, params, state, inputs, training=False, rng=None, **kwargs):
        if applied_in_pipeline(self, inputs):
            return inputs, state
        if isinstance(inputs, jax.core.Tracer):
            raise TypeError(
                "Hashing runs on the host and cannot hash traced values (inside `jit`, "
                "`vmap` or `grad`). Call it on concrete arrays, e.g. in the input "
                "pipeline before the jitted step."
            )
        return jnp.asarray(self.host_call(inputs)), state

    def host_call(self, inputs):
        """The layer on host values, as NumPy (what `__call__` returns, before JAX)."""
        ids = self.hash_to_bins(inputs)
        if self.output_mode == "int":
            return ids.astype(jax.dtypes.canonicalize_dtype(self.dtype))
        if self.output_mode == "one_hot" and ids.ndim and ids.shape[-1] == 1:
            ids = ids[..., 0]
        return np.asarray(encode(jnp.asarray(ids, "int32"), self.output_mode, self.num_bins,
                                 self.dtype))

    def get_config(self):
        return {**super().get_config(), "num_bins": self.num_bins, "salt": self.salt,
                "mask_value": self.mask_value, "output_mode": self.output_mode,
                "sparse": self.sparse}
