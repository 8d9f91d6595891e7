"""The process-wide key source behind unseeded randomness (initializers, eager layers).

`kerax.utils.set_random_seed(s)` resets it, which makes a whole program reproducible.
"""

import threading

import jax
import numpy as np

_LOCK = threading.Lock()
_STATE = {"seed": None, "count": 0}


def set_global_seed(seed):
    """Makes every later unseeded draw a function of `seed`."""
    with _LOCK:
        _STATE["seed"] = int(seed)
        _STATE["count"] = 0


def next_key():
    """A fresh `jax.random.PRNGKey`: from the global seed if set, else from OS entropy."""
    with _LOCK:
        if _STATE["seed"] is None:
            _STATE["seed"] = int(np.random.SeedSequence().entropy % (2**31))
        key = jax.random.fold_in(jax.random.PRNGKey(_STATE["seed"]), _STATE["count"])
        _STATE["count"] += 1
    return key


def key_from_seed(seed):
    """`seed` may be None (global source), an int, or a JAX key (used as is)."""
    if seed is None:
        return next_key()
    if isinstance(seed, (int, np.integer)):
        return jax.random.PRNGKey(int(seed))
    return seed
