"""Small pytree helpers of the trainer: cache keys, host values, layer walks."""

import jax
import jax.numpy as jnp
import numpy as np


def host_value(v):
    """A log value on the host: a Python float for scalars, a NumPy array otherwise.

    Example:
    >>> host_value(np.float32(2.0)), host_value(np.ones(2)).shape
    (2.0, (2,))
    """
    a = np.asarray(v)
    return float(a) if a.ndim == 0 else a


def shapes(tree):
    """The structure, shapes and dtypes of a pytree of arrays (a cache key)."""
    leaves, treedef = jax.tree_util.tree_flatten(tree)
    return treedef, tuple((tuple(np.shape(a)), str(getattr(a, "dtype", type(a))))
                          for a in leaves)


def signature(tree):
    """A hashable signature of a pytree: structure, and shape/dtype (or value) per leaf."""
    leaves, treedef = jax.tree_util.tree_flatten(tree)
    return (str(treedef), tuple(
        (tuple(getattr(a, "shape", ())), str(getattr(a, "dtype", type(a).__name__)))
        if hasattr(a, "shape") else a for a in leaves))


def all_layers(layer):
    """`layer` and every layer below it, depth first."""
    yield layer
    for child in layer._children().values():
        yield from all_layers(child)


def num_elements(tree):
    return sum(int(np.prod(a.shape)) for a in jax.tree_util.tree_leaves(tree))


def host_seed(key):
    """A shuffle seed in [0, 2**31 - 1) read from a key's words on the host.

    Deterministic under `kerax.utils.set_random_seed`, like the key, without compiling
    and running a device program to draw it.
    """
    if jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        key = jax.random.key_data(key)
    words = np.asarray(key, np.uint32).reshape(-1).astype(np.uint64)
    mixed = 0
    for w in words:
        mixed = (mixed * 0x9E3779B1 + int(w)) % (2**61 - 1)
    return int(mixed % (2**31 - 1))


def unalias(tree):
    """Copies leaves that share a buffer, so the whole tree can be donated."""
    seen = set()

    def fix(a):
        if isinstance(a, jax.Array):
            if id(a) in seen:  # a copy without compiling a program per shape
                return jax.device_put(a, may_alias=False)
            seen.add(id(a))
        return a

    return jax.tree_util.tree_map(fix, tree)


def concat_outputs(outs, rows):
    """Predict outputs: executions' `(steps, batch, ...)` outputs joined, real `rows` only
    (a boolean mask, or a slice of leading rows), as fresh writable host arrays."""
    if len(outs) == 1:  # no concatenation needed
        if isinstance(outs[0], jax.Array):  # (one output: no tree walk)
            return _rows_of(outs[0], rows)
        return jax.tree_util.tree_map(lambda a: _rows_of(a, rows), outs[0])
    return jax.tree_util.tree_map(
        lambda *o: np.concatenate([np.asarray(a).reshape((-1,) + a.shape[2:])
                                   for a in o])[rows], *outs)


def _rows_of(a, rows):
    a = np.asarray(a).reshape((-1,) + a.shape[2:])[rows]
    return a.copy() if isinstance(rows, slice) else a  # (a mask's indexing copies)


__all__ = ["host_value", "shapes", "signature", "all_layers", "num_elements", "host_seed",
           "unalias", "concat_outputs"]
