"""Shared shuffle-and-split of the two housing regression datasets."""

import numpy as np


def check_test_split(test_split):
    if not 0 <= test_split < 1:
        raise ValueError(
            f"`test_split` must be a fraction in [0, 1): the share of samples kept for "
            f"the test set. Received: test_split={test_split}."
        )


def shuffle_split(x, y, test_split, seed):
    """Shuffles `(x, y)` with `RandomState(seed)` and splits off the last `test_split`."""
    order = np.arange(len(x))
    np.random.RandomState(seed).shuffle(order)
    x, y = x[order], y[order]
    n = int(len(x) * (1 - test_split))
    return (np.array(x[:n]), np.array(y[:n])), (np.array(x[n:]), np.array(y[n:]))
