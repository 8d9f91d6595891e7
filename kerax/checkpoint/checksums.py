"""Array checksums computed where the arrays live, whatever their sharding.

A checksum is two 32-bit sums over an array's 32-bit words, each word mixed with a hash
of its global position. Unsigned sums wrap around, so the result does not depend on how
the array is sharded, on how many processes hold it, nor on the order of the reduction:
each device sums its own shard and XLA adds the partial sums. Nothing is gathered onto one
device or host, and a checkpoint saved under one distribution checks out when restored
under another (or none). Changing any single word always changes the first sum (every
weight is odd); the checkpoint's files are covered by sha256 as well.

Host (numpy) arrays are hashed with sha256 directly.
"""

import hashlib

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax


def sha256_array(a):
    """sha256 of a host array's dtype, shape and bytes."""
    a = np.ascontiguousarray(a)
    h = hashlib.sha256(a.dtype.str.encode() + str(a.shape).encode())
    h.update(a.reshape(-1).view(np.uint8).data)  # no copy of the array's bytes
    return h.hexdigest()


def _fmix(h):
    """murmur3's 32-bit finalizer: a cheap bijective mix of uint32 words."""
    h = h ^ (h >> 16)
    h = h * jnp.uint32(0x85EBCA6B)
    h = h ^ (h >> 13)
    h = h * jnp.uint32(0xC2B2AE35)
    return h ^ (h >> 16)


def _words(x):
    """The array as uint32 words (64-bit values give a trailing axis of 2)."""
    if jnp.issubdtype(x.dtype, jnp.complexfloating):
        return _words(jnp.stack([x.real, x.imag], axis=-1))
    if x.dtype == jnp.bool_:
        return x.astype(jnp.uint32)
    bits = x.dtype.itemsize * 8
    if bits < 32:
        return lax.bitcast_convert_type(x, jnp.dtype(f"uint{bits}")).astype(jnp.uint32)
    return lax.bitcast_convert_type(x, jnp.uint32)


def _position(shape):
    """Each element's row-major global index (mod 2**32), built shard by shard."""
    pos = jnp.zeros(shape, jnp.uint32)
    stride = 1
    for d in reversed(range(len(shape))):
        pos = pos + lax.broadcasted_iota(jnp.uint32, shape, d) * jnp.uint32(stride % 2**32)
        stride *= shape[d]
    return pos


def _sums(x):
    w = _words(x)
    pos = _position(w.shape)
    weight = _fmix(pos) | jnp.uint32(1)
    first = jnp.sum(weight * w, dtype=jnp.uint32)
    second = jnp.sum(_fmix(w ^ _fmix(pos ^ jnp.uint32(0x9E3779B9))), dtype=jnp.uint32)
    return jnp.stack([first, second])


_all_sums = jax.jit(lambda arrays: [_sums(a) for a in arrays])


def device_checksums(arrays):
    """Starts computing the checksums of a list of `jax.Array`s, on their devices.

    One program for the whole list when the arrays share their devices (one per array
    otherwise). Every process holding a part of an array must call it. Pass each result
    to `to_hex`.

    Example:
    >>> import jax.numpy as jnp
    >>> a, b = device_checksums([jnp.arange(4.0), jnp.arange(4.0)])
    >>> to_hex(a) == to_hex(b)
    True
    """
    arrays = list(arrays)
    if not arrays:
        return []
    try:
        return _all_sums(arrays)
    except ValueError:  # arrays on different devices: one program each
        return [_all_sums([a])[0] for a in arrays]


def to_hex(sums):
    """The 16-hex-digit string of a `device_checksums` result."""
    first, second = (int(v) for v in np.asarray(sums))
    return f"{first:08x}{second:08x}"
