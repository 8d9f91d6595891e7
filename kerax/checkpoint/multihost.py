"""What checkpoints need when several processes share one training run.

Every process calls save and restore (orbax writes and reads each process's own shards);
only the primary process (index 0) writes metadata and the manifest and renames a step
into place; barriers keep the others from reading a step before it is committed. With a
single process each helper is a no-op.
"""

import jax
import numpy as np


def is_multiprocess():
    return jax.process_count() > 1


def is_primary():
    """True on the process that writes metadata and commits steps (process 0)."""
    return jax.process_index() == 0


def sync(name):
    """Waits until every process reached the barrier `name` (same name on all)."""
    if is_multiprocess():
        from jax.experimental import multihost_utils

        multihost_utils.sync_global_devices(name)


def share(items):
    """This process's part of `items` (a sorted list), so work is split, not repeated."""
    return items[jax.process_index()::jax.process_count()]


def first_failure(index):
    """The smallest failing index any process found (-1: none), known to all processes."""
    if not is_multiprocess():
        return index
    from jax.experimental import multihost_utils

    found = np.asarray(multihost_utils.process_allgather(np.asarray([index], np.int64)))
    found = found[found >= 0]
    return int(found.min()) if found.size else -1
