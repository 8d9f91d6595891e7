"""`jax.random`'s threefry key arithmetic and uniform draws, computed on the host, and
normal draws that compile a few programs in all rather than one per shape.

Building a model eagerly splits keys and draws initial weights from concrete keys. Each
`jax.random` call there runs a small XLA program that is compiled on first use: `split`,
`fold_in`, `PRNGKey` once per process, and `uniform`, `normal` and `truncated_normal`
once per *shape*, 0.3-0.7 s each on CPU (EfficientNetB0 has 45 kernel shapes). That
compile time is most of the time to build a model. `prng_key`, `fold_in`, `split` and
`uniform` give bit-for-bit the same numbers with NumPy instead (threefry-2x32 is twenty
rounds of 32-bit adds, rotations and xors). `normal` and `truncated_normal` (whose
`erf_inv` NumPy cannot reproduce bit for bit) draw with `jax.random` at a power-of-two
size and keep the first values, which are the same bits (see `_bucketed_draw`). All hand
what they cannot reproduce exactly to `jax.random`: traced keys (inside `jit`, `grad`,
`vmap`, `eval_shape`), typed keys, a PRNG implementation other than the default threefry,
the non-partitionable threefry mode, and dtypes other than float32 (`uniform`) or other
than float32, bfloat16 and float16 (the normals).

`tests/backend/test_host_prng.py` checks every function against `jax.random`. Keys are
exact integer arithmetic on every platform. For `uniform`, XLA:CPU fuses the last
`u * (maxval - minval) + minval` into one fused multiply-add, which is reproduced here;
an accelerator that rounds it in two steps may differ from these values in the last bit,
so a model initialized inside `jit` on a GPU can differ by one ulp from the same model
initialized eagerly (which is computed here, identically on every platform).

Example:
>>> import jax
>>> key = prng_key(0)
>>> bool((fold_in(key, 3) == jax.random.fold_in(jax.random.PRNGKey(0), 3)).all())
True
>>> bool((uniform(key, (2, 3)) == jax.random.uniform(jax.random.PRNGKey(0), (2, 3))).all())
True
"""

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
from jax._src.core import trace_state_clean  # no public "is a trace running" in jax 0.10

_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))
_MASK = 0xFFFFFFFF
# Draws are generated in slices of this many elements, bounding the host memory used.
_CHUNK = 1 << 20
# Normal draws are made by `jax.random` in one program per power-of-two size from this
# one up (see `_bucketed_draw`), so any number of shapes costs a few compiles.
_BUCKET_MIN = 1 << 16
# Larger draws go to `jax.random`: NumPy hashes ~25 M elements/s, so past ~4 M elements the
# host takes longer than a compile plus the device's draw (and big models usually
# initialize under `jit` anyway, e.g. straight into their shardings).
HOST_MAX_ELEMENTS = 1 << 22


def _threefry2x32(k1, k2, x0, x1):
    """The threefry-2x32 hash of the counter pairs `(x0, x1)` under key `(k1, k2)`."""
    ks = (k1, k2, k1 ^ k2 ^ 0x1BD11BDA)
    x0 = x0 + np.uint32(ks[0])
    x1 = x1 + np.uint32(ks[1])
    tmp = np.empty_like(x1)
    for i in range(5):
        for r in _ROTATIONS[i % 2]:
            x0 += x1
            np.left_shift(x1, np.uint32(r), out=tmp)
            x1 >>= np.uint32(32 - r)
            x1 |= tmp
            x1 ^= x0
        x0 += np.uint32(ks[(i + 1) % 3])
        x1 += np.uint32((ks[(i + 2) % 3] + i + 1) & _MASK)
    return x0, x1


def _host_words(key):
    """The key's two words as Python ints, or None when `jax.random` must handle it."""
    if isinstance(key, jax.core.Tracer):
        return None
    if isinstance(key, jax.Array):
        if (key.dtype != jnp.uint32 or key.shape != (2,)
                or not getattr(key, "is_fully_addressable", True)):
            return None
    elif not (isinstance(key, np.ndarray) and key.dtype == np.uint32 and key.shape == (2,)):
        return None
    if not _default_threefry():
        return None
    k = np.asarray(key)
    return int(k[0]), int(k[1])


def _default_threefry():
    """Whether `jax.random` uses the threefry-2x32 implementation reproduced here."""
    impl = getattr(jax.config, "jax_default_prng_impl", "threefry2x32")
    return impl == "threefry2x32" and getattr(jax.config, "jax_threefry_partitionable", True)


def _hash_counts(words, n, start=0):
    """Threefry of the counters `start .. start + n - 1` (high words 0): two uint32[n]."""
    if start + n > 2**32:
        raise ValueError("host_prng handles fewer than 2**32 draws per key.")
    lo = np.arange(start, start + n, dtype=np.uint32)
    return _threefry2x32(words[0], words[1], np.zeros(n, np.uint32), lo)


def prng_key(seed):
    """`jax.random.PRNGKey(seed)` as a NumPy `uint32[2]` (for 0 <= seed < 2**32).

    Example:
    >>> prng_key(7).tolist()
    [0, 7]
    """
    seed = int(seed)
    if not 0 <= seed < 2**32 or not _default_threefry():
        return jax.random.PRNGKey(seed)
    return np.array([0, seed], np.uint32)


def fold_in(key, data):
    """`jax.random.fold_in(key, data)`, on the host when `key` is a concrete raw key.

    Example:
    >>> fold_in(prng_key(0), 1).shape
    (2,)
    """
    words = _host_words(key)
    if words is None or not isinstance(data, (int, np.integer)) or not 0 <= data < 2**32:
        return jax.random.fold_in(key, data)
    a, b = _hash_counts(words, 1, int(data))
    return np.array([a[0], b[0]], np.uint32)


def split(key, num=2):
    """`jax.random.split(key, num)`, on the host when `key` is a concrete raw key.

    Example:
    >>> a, b = split(prng_key(0))
    >>> a.shape, b.shape
    ((2,), (2,))
    """
    words = _host_words(key)
    if words is None or not isinstance(num, (int, np.integer)):
        return jax.random.split(key, num)
    a, b = _hash_counts(words, int(num))
    return np.stack([a, b], axis=1)


def uniform(key, shape, dtype=jnp.float32, minval=0.0, maxval=1.0):
    """`jax.random.uniform(key, shape, dtype, minval, maxval)`, on the host when it can be
    reproduced exactly there (a concrete raw key, float32, scalar bounds) and is at most
    `HOST_MAX_ELEMENTS` values; a `jax.Array`.

    Example:
    >>> uniform(prng_key(0), (2, 2), minval=-1.0, maxval=1.0).shape
    (2, 2)
    """
    words = _host_words(key)
    shape = tuple(int(d) for d in shape)
    if (words is None or jnp.dtype(dtype) != jnp.float32
            or math.prod(shape) > HOST_MAX_ELEMENTS
            or not all(isinstance(v, (int, float, np.integer, np.floating))
                       for v in (minval, maxval))):
        return jax.random.uniform(key, shape, dtype, minval=minval, maxval=maxval)
    lo, hi = np.float32(minval), np.float32(maxval)
    scale = np.float32(hi - lo)
    n = math.prod(shape)
    out = np.empty(n, np.float32)
    for start in range(0, n, _CHUNK):
        size = min(_CHUNK, n - start)
        a, b = _hash_counts(words, size, start)
        a ^= b
        a >>= np.uint32(9)
        a |= np.uint32(0x3F800000)
        floats = a.view(np.float32)
        floats -= np.float32(1.0)
        # XLA fuses `floats * scale + lo` into one fused multiply-add (a single rounding):
        # float64 holds the product exactly, so rounding the float64 sum matches it.
        fused = floats.astype(np.float64)
        fused *= float(scale)
        fused += float(lo)
        np.maximum(fused.astype(np.float32), lo, out=out[start:start + size])
    return jax.device_put(out.reshape(shape))


def normal(key, shape, dtype=jnp.float32, mean=0.0, stddev=1.0):
    """`jax.random.normal(key, shape, dtype) * stddev + mean`, computed as two eager ops
    (two roundings), as Keras' `keras.random.normal` computes it; a `jax.Array`.

    From a concrete raw key, outside a trace, and for at most `HOST_MAX_ELEMENTS` values,
    the draw compiles once per power-of-two size (`_bucketed_draw`), not once per shape,
    and `* stddev + mean` runs on the host; the values are the same bits.

    Example:
    >>> key = prng_key(0)
    >>> want = jax.random.normal(jax.random.PRNGKey(0), (2, 3)) * 0.5 + 1.0
    >>> bool((normal(key, (2, 3), mean=1.0, stddev=0.5) == want).all())
    True
    """
    return _scaled_draw("normal", key, shape, dtype, mean, stddev)


def truncated_normal(key, shape, dtype=jnp.float32, mean=0.0, stddev=1.0):
    """`jax.random.truncated_normal(key, -2.0, 2.0, shape, dtype) * stddev + mean` (cut at
    two standard deviations), computed as Keras' `keras.random.truncated_normal` computes
    it; a `jax.Array`. Compiles as few programs as `normal`.

    Example:
    >>> key = prng_key(0)
    >>> want = jax.random.truncated_normal(jax.random.PRNGKey(0), -2.0, 2.0, (4,)) * 0.1 + 0.0
    >>> bool((truncated_normal(key, (4,), stddev=0.1) == want).all())
    True
    """
    return _scaled_draw("truncated_normal", key, shape, dtype, mean, stddev)


# The dtypes whose bucketed draws and host `* stddev + mean` are checked bit for bit.
_NORMAL_DTYPES = (jnp.dtype(jnp.float32), jnp.dtype(jnp.bfloat16), jnp.dtype(jnp.float16))


def _jax_draw(kind, key, shape, dtype):
    if kind == "normal":
        return jax.random.normal(key, shape, dtype)
    return jax.random.truncated_normal(key, -2.0, 2.0, shape, dtype)


def _scaled_draw(kind, key, shape, dtype, mean, stddev):
    shape, dtype = tuple(int(d) for d in shape), jnp.dtype(dtype)
    n = math.prod(shape)
    if (_host_words(key) is None or not trace_state_clean() or n > HOST_MAX_ELEMENTS
            or dtype not in _NORMAL_DTYPES
            or not all(type(v) in (int, float) for v in (mean, stddev))):
        return _jax_draw(kind, key, shape, dtype) * stddev + mean
    size = max(_BUCKET_MIN, 1 << max(n - 1, 0).bit_length())
    sample = np.asarray(_bucketed_draw(kind, size, dtype)(key))[:n].reshape(shape)
    # Python scalars are weakly typed in JAX: each is rounded to `dtype`, then each op is
    # rounded to `dtype` (float32 holds a 16-bit product exactly: one rounding).
    sample = sample * np.asarray(stddev, dtype)
    sample += np.asarray(mean, dtype)
    return jax.device_put(sample)


@functools.lru_cache(maxsize=None)
def _bucketed_draw(kind, size, dtype):
    """A compiled `key -> draw of shape (size,)`.

    With the partitionable threefry (`_default_threefry`), value `i` of a draw of any shape
    hashes the counter `i` (its row-major index) and goes through elementwise arithmetic
    only, so the first `n` values of a longer draw, reshaped, are the draw of any shape of
    `n` values: `tests/backend/test_host_prng.py` checks this bit for bit.
    """
    if kind == "normal":
        @jax.jit
        def normal_draw(key):
            return jax.random.normal(key, (size,), dtype)

        return normal_draw

    # The bounds are arguments, as in `jax.random.truncated_normal`'s own program, so that
    # `erf(bound / sqrt(2))` is computed at run time there and here alike (not folded).
    @jax.jit
    def truncated_normal_draw(key, lower, upper):
        return jax.random.truncated_normal(key, lower, upper, (size,), dtype)

    return lambda key: truncated_normal_draw(key, -2.0, 2.0)
