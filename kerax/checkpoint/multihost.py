"""What checkpoints need when several processes share one training run.

Every process calls save and restore (orbax writes and reads each process's own shards);
only the primary process (index 0) writes metadata and the manifest and renames a step
into place; barriers keep the others from reading a step before it is committed. With a
single process each helper is a no-op.
"""

import contextlib

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


def _split_across_processes(a):
    return (isinstance(a, jax.Array) and not a.is_fully_addressable
            and not a.is_fully_replicated)


@contextlib.contextmanager
def host_copies(model):
    """Swaps the model's variables and optimizer state for whole host copies, meanwhile.

    A collective: every process must enter it. Arrays sharded across processes (e.g. a
    kernel split over a "model" axis that spans hosts) are gathered with
    `process_allgather`, so `model.save` / `save_weights` on the primary process can read
    them; with one process, or when nothing is split across processes, it does nothing.
    """
    opt = getattr(model, "optimizer", None)
    trees = {"variables": model._variables, "opt": getattr(opt, "state", None)}
    if not is_multiprocess() or not any(
            _split_across_processes(a) for a in jax.tree_util.tree_leaves(trees)):
        yield
        return
    from jax.experimental import multihost_utils

    def gather(a):
        return np.asarray(multihost_utils.process_allgather(a, tiled=True)) \
            if _split_across_processes(a) else a

    host = jax.tree_util.tree_map(gather, trees)
    model.variables = host["variables"]
    if opt is not None:
        opt.state = host["opt"]
    try:
        yield
    finally:
        model.variables = trees["variables"]
        if opt is not None:
            opt.state = trees["opt"]
