"""`set_random_seed`: one call makes a whole kerax program reproducible."""

import random

import numpy as np

from kerax.backend import random_state


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
    random_state.set_global_seed(seed)
