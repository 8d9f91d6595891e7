"""The process-wide key source behind unseeded randomness (initializers, eager layers).

`kerax.utils.set_random_seed(s)` resets it, which makes a whole program reproducible.
"""

import contextlib
import random
import threading

import numpy as np

from kerax.backend import host_prng

_LOCK = threading.Lock()
_STATE = {"seed": None, "count": 0}


def set_global_seed(seed):
    """Makes every later unseeded draw a function of `seed`."""
    with _LOCK:
        _STATE["seed"] = int(seed)
        _STATE["count"] = 0


def set_random_seed(seed):
    """Seeds Python's `random`, NumPy, and kerax's global key source.

    Example:
    >>> import kerax
    >>> kerax.utils.set_random_seed(1337)
    """
    if not isinstance(seed, int):
        raise ValueError(f"Expected `seed` argument to be an integer. Received: seed={seed!r}")
    random.seed(seed)
    np.random.seed(seed)
    set_global_seed(seed)


def next_key():
    """A fresh raw key (`uint32[2]`, the value of `jax.random.fold_in(PRNGKey(seed),
    count)`, computed on the host): from the global seed if set, else from OS entropy."""
    with _LOCK:
        if _STATE["seed"] is None:
            _STATE["seed"] = int(np.random.SeedSequence().entropy % (2**31))
        key = host_prng.fold_in(host_prng.prng_key(_STATE["seed"]), _STATE["count"])
        _STATE["count"] += 1
    return key


@contextlib.contextmanager
def preserved():
    """Puts the global key source back as it was when the block ends: work that builds
    models only to measure them (a load's size check) must not move a seeded program's
    later draws.

    Example:
    >>> set_global_seed(3)
    >>> with preserved():
    ...     _ = next_key()
    >>> bool((next_key() == host_prng.fold_in(host_prng.prng_key(3), 0)).all())
    True
    """
    with _LOCK:
        saved = dict(_STATE)
    try:
        yield
    finally:
        with _LOCK:
            _STATE.update(saved)


def key_from_seed(seed):
    """`seed` may be None (global source), an int, or a JAX key (used as is)."""
    if seed is None:
        return next_key()
    if isinstance(seed, (int, np.integer)):
        return host_prng.prng_key(int(seed))
    return seed
