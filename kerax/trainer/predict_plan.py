"""`predict`'s plan for array inputs, kept per input structure, shape and dtype.

`predict(x)` on arrays (one, or a list, tuple or dict of them for a model with several
inputs) opens a data adapter, checks `x` against the model (building it
on the first call), plans the batches and picks the compiled programs: ~20 host steps,
ten times the program itself for one example. The first call for an input shape, dtype
and batch size does all of that and raises its errors; what it planned — the programs
and their index arrays, already on the device — is kept in the model's `_programs`
(which `compile` and a change of the layers reset), and later calls with the same shape,
dtype and batch size, without callbacks of their own, run it directly: the same
programs on the same arguments, so the same outputs, progress bar and state.

A single batch of fewer than `batch_size` examples runs at the smallest power of two
rows that holds them (one example runs one row, as in Keras, not a padded batch of 32),
padded on the host with copies of the first example (`pad_rows`), so calls on 1 to 32
examples compile at most six programs (rows 1, 2, 4, 8, 16, 32), not one per number of
examples; one batch runs the predict step on `x` itself (no gather).
"""

from typing import NamedTuple

import jax
import numpy as np

from kerax.distribution import placement
from kerax.trainer import stateless
from kerax.trainer.pytrees import all_layers


class Plan(NamedTuple):
    """A checked `predict`: the epoch plan `(idx, mask)`, its steps per execution `k`,
    its executions `(program, args after x, steps, mask)`, the real rows of their
    joined outputs (`real_rows`) and the rows `x` is padded to (or None)."""

    plan: tuple
    k: int
    executions: tuple
    rows: object
    pad: int | None


def pad_rows(x, rows):
    """`x` (arrays, or a structure of them) with `rows` rows: its own, then copies of its
    first row, made on the host (no program per number of rows); `x` itself when it
    has `rows` rows.

    Example:
    >>> import numpy as np
    >>> pad_rows(np.array([[1, 2], [3, 4], [5, 6]]), 4)
    array([[1, 2],
           [3, 4],
           [5, 6],
           [1, 2]])
    """
    def pad(a):
        a = np.asarray(a)
        return np.concatenate([a, np.repeat(a[:1], rows - a.shape[0], axis=0)])

    if jax.tree_util.tree_leaves(x)[0].shape[0] == rows:
        return x
    return jax.tree_util.tree_map(pad, x)


def real_rows(masks):
    """The real rows of outputs joined from executions with these row masks: a slice
    when they lead (indexing by it takes no mask walk), else the joined mask.

    Example:
    >>> import numpy as np
    >>> real_rows([np.array([[True, True], [True, False]])])
    slice(0, 3, None)
    >>> real_rows([np.array([[True, False]]), np.array([[True, True]])])
    array([ True, False,  True,  True])
    """
    mask = np.concatenate([np.asarray(m).reshape(-1) for m in masks])
    n = int(mask.sum())
    return slice(0, n) if mask[:n].all() else mask


def batch_rows(n, batch_size):
    """The rows of `predict`'s batches for `n` examples at `batch_size`.

    Example:
    >>> batch_rows(1, 32), batch_rows(5, 32), batch_rows(32, 32), batch_rows(100, 32)
    (1, 8, 32, 32)
    """
    if n >= batch_size or n < 1 or placement.current() is not None:
        return batch_size  # (a distribution splits the batch over devices: keep it)
    return min(batch_size, 1 << (n - 1).bit_length())


def _plain(a):
    """Whether `a` is a non-empty numeric NumPy or JAX array with a batch axis."""
    return ((type(a) is np.ndarray or (isinstance(a, jax.Array)
                                       and not isinstance(a, jax.core.Tracer)))
            and a.ndim > 0 and a.shape[0] > 0 and a.dtype.kind not in "USO")


def signature(x):
    """`(structure, shapes and dtypes, rows)` of `x`, one array or a list, tuple or
    dict (string keys) of them with one number of rows; None for any other input.

    Example:
    >>> import numpy as np
    >>> signature([np.zeros((2, 3)), np.zeros((2,), "int32")])[1:]
    ((((2, 3), dtype('float64')), ((2,), dtype('int32'))), 2)
    >>> signature([np.zeros((2, 3)), np.zeros((3,))]) is None  # (predict says why)
    True
    """
    if type(x) is np.ndarray or isinstance(x, jax.Array):
        return (None, (x.shape, x.dtype), x.shape[0]) if _plain(x) else None
    if type(x) not in (list, tuple, dict) or (type(x) is dict and not all(
            type(name) is str for name in x)):
        return None
    leaves, structure = jax.tree_util.tree_flatten(x)
    if not leaves or not all(_plain(a) for a in leaves):
        return None
    rows = leaves[0].shape[0]
    if any(a.shape[0] != rows for a in leaves):
        return None
    return structure, tuple((a.shape, a.dtype) for a in leaves), rows


def key(model, x, batch_size, steps, callbacks):
    """The cache key of `predict(x, batch_size, steps=steps, callbacks=callbacks)`, or
    None when that call always takes the full path: another input than non-empty NumPy
    or JAX arrays (see `signature`), `steps`, callbacks, or a distribution."""
    if steps is not None or callbacks or placement.current() is not None:
        return None
    sig = signature(x)
    if sig is None:
        return None
    if batch_size is None:
        batch_size = 32
    elif not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
        return None  # the full path says what is wrong
    # A Keras-style `predict_step` sees the variables split by `trainable`.
    flags = (tuple(layer.trainable for layer in all_layers(model))
             if stateless.custom_step(model, "predict") else None)
    return ("predict_plan", sig[:2], int(batch_size), model._steps_per_execution,
            model.__dict__.get("_fit_steps_per_execution"), flags)


def lookup(model, cache_key):
    """The `Plan` kept for `cache_key`, or None."""
    return None if cache_key is None else model._programs.get(cache_key)


def keep(model, cache_key, plan, k, executions, x):
    """Keeps a full `predict`'s plan, `k` and executions (their index arrays put on the
    device once) for `cache_key`, when its programs ran on `x` as given (in the same
    structure: a dict keyed by a single-input model's input name ran on its array)."""
    data = executions[0][1][0]
    if cache_key is None or (jax.tree_util.tree_structure(data)
                             != jax.tree_util.tree_structure(x)):
        return
    kept = tuple((program, tuple(jax.device_put(a) for a in args[1:]), size, mask)
                 for program, args, size, mask in executions)
    rows = jax.tree_util.tree_leaves(data)[0].shape[0]
    pad = rows if rows != jax.tree_util.tree_leaves(x)[0].shape[0] else None
    model._programs[cache_key] = Plan(plan, k, kept, real_rows([e[3] for e in kept]), pad)


def executions(plan, x):
    """The kept executions of `plan` on `x`, as the full path's `(program, args, steps,
    mask)`."""
    if plan.pad is not None:
        x = pad_rows(x, plan.pad)
    elif len(plan.executions) > 1:
        x = jax.device_put(x)  # once for all executions, as the data adapter does
    return [(program, (x,) + args, size, mask)
            for program, args, size, mask in plan.executions]


__all__ = ["Plan", "real_rows", "pad_rows", "batch_rows", "signature", "key", "lookup",
           "keep", "executions"]
