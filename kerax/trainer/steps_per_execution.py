"""How many steps one execution runs (K, Keras' `steps_per_execution`).

The user's integer, or "auto": one step while a callback must see every batch (as in
Keras); otherwise, for arrays, from the step's estimated cost (executions of about
`_TARGET_EXECUTION_SECONDS`, longer on XLA:CPU when each execution's fresh temporaries
would cost more than a small share of it: see `auto_k`), bounded by the compiled
execution's memory; for streams
likewise from the step's cost, at least `_DEFAULT_STREAM_K` prefetched batches and at most
`_MAX_STREAM_K` or `_STREAM_BUFFER_BYTES` of host batches (each execution's fixed cost,
the transfer and the dispatch, is then shared by many cheap steps). On XLA:CPU a
convolution inside a rolled loop is ~30x slower, so such models run one step per
execution there.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np

from kerax.trainer import batch_hooks
from kerax.trainer import compile_cache
from kerax.trainer import custom_steps
from kerax.trainer import stateless
from kerax.trainer import step_costs
from kerax.trainer.pytrees import num_elements, signature

# "auto": aim for executions of about this many seconds, with the step time estimated
# from the compiled step's FLOPs and the backend's typical rate.
_TARGET_EXECUTION_SECONDS = 0.2
_TYPICAL_FLOPS = {"cpu": 1e11, "gpu": 2e13, "tpu": 5e13}
# Every execution also pays for its temporaries afresh on XLA:CPU: its large buffers are
# mapped anew and page-faulted on first touch (measured with jax 0.10.2: ~20 ms of kernel
# time per execution of the W5 transformer's step, whose ~50 MB of temporaries need 25-35
# ms to compute; the hand-written `lax.scan` loop pays it once per epoch). "auto" makes
# array executions long enough that this is at most `_FRESH_MEMORY_SHARE` of them, up to
# `_MAX_EXECUTION_SECONDS` (the progress bar and `stop_training` act between executions).
_FRESH_MEMORY_SECONDS_PER_BYTE = {"cpu": 4e-10}
_FRESH_MEMORY_SHARE = 0.02
_MAX_EXECUTION_SECONDS = 2.0
_DEFAULT_STREAM_K = 16
_MAX_STREAM_K = 256
_STREAM_BUFFER_BYTES = 64 * 1024**2


def for_fit(model, adapter, callbacks, ts, plan):
    """`(k, ahead)`: K of a `fit`, and the compiles done choosing it (or None)."""
    if model._steps_per_execution == "auto" and batch_hooks.needs_each_batch(callbacks,
                                                                              "train"):
        return 1, None  # a callback sees every batch, as in Keras
    if plan is None:  # a stream
        return for_stream(model, adapter, callbacks, "train"), None
    with compile_cache.track() as ahead:  # the first execution, compiled for memory
        k = _choose(model, adapter.steps_per_epoch, ts, adapter, *plan)
    return k, ahead


def for_evaluation(model, adapter, callbacks, mode, plan):
    """K of an `evaluate` (`mode="test"`) or `predict` (`mode="predict"`)."""
    if plan is None:
        return for_stream(model, adapter, callbacks, mode)
    steps = plan[0].shape[0]
    k = getattr(model, "_fit_steps_per_execution", None)
    if model._steps_per_execution != "auto":
        k = model._steps_per_execution
    elif batch_hooks.needs_each_batch(callbacks, mode):
        k = 1
    if k is None:
        k = steps if jax.default_backend() != "cpu" else min(steps, 32)
    return max(1, min(k, steps))


def for_stream(model, adapter, callbacks, mode):
    k = model._steps_per_execution
    if k == "auto" and batch_hooks.needs_each_batch(callbacks, mode):
        k = 1  # a callback sees every batch, as in Keras
    elif k == "auto":
        k = _stream_auto(model, adapter, mode)
    steps = adapter.steps_per_epoch
    return max(1, min(int(k), steps)) if steps else max(1, int(k))


def _stream_auto(model, adapter, mode):
    """"auto" K of a stream: from the forward pass traced on the first batch, as for
    arrays (one step on XLA:CPU around a convolution), within the stream's bounds."""
    if stateless.custom_step(model, "train"):
        return _DEFAULT_STREAM_K  # a custom step need not call the model
    batch = adapter.peek()
    spec = jax.tree_util.tree_map(lambda a: jax.ShapeDtypeStruct(a.shape, a.dtype), batch[0])
    jaxpr = jax.make_jaxpr(lambda v, xx: model.apply(v, xx)[0])(model._variables, spec)
    backend = jax.default_backend()
    if backend == "cpu" and step_costs.has_convolution(jaxpr):
        return 1
    flops = (step_costs.train_step_flops(jaxpr, num_elements(model._variables["params"]))
             if mode == "train" else step_costs.jaxpr_flops(jaxpr))
    step_seconds = max(flops, 1e4) / _TYPICAL_FLOPS.get(backend, 1e11)
    batch_bytes = sum(np.asarray(a).nbytes for a in jax.tree_util.tree_leaves(batch))
    k = min(int(_TARGET_EXECUTION_SECONDS / step_seconds), _MAX_STREAM_K,
            _STREAM_BUFFER_BYTES // max(1, batch_bytes))
    return max(_DEFAULT_STREAM_K, k)


def _choose(model, steps_per_epoch, ts, adapter, idx, mask):
    """K for this fit: the user's int, or "auto" from the step's estimated cost,
    bounded by the compiled execution's memory (see `_bound_by_memory`)."""
    data = adapter.data
    key = (steps_per_epoch, model._steps_per_execution, model._trainable_mask_signature(),
           signature(jax.tree_util.tree_map(
               lambda a: jax.ShapeDtypeStruct(a.shape, a.dtype), (data, idx[:1]))))
    cache = model.__dict__.setdefault("_k_cache", {})
    if key not in cache:
        k, model._unroll_scan = _measure(model, steps_per_epoch, ts, data, idx)
        if model._steps_per_execution == "auto" and k > 1:
            k = _bound_by_memory(model, k, ts, adapter, idx, mask)
        cache[key] = k, model._unroll_scan
    k, model._unroll_scan = cache[key]
    return k


def _bound_by_memory(model, k, ts, adapter, idx, mask):
    """Halves an "auto" K while its compiled execution needs more memory than
    `steps.execution_memory_budget()` (arguments + outputs + temporaries, from XLA's
    memory analysis; Keras rejected fusing steps with `lax.scan` for memory).

    The first execution's program is compiled here, ahead of its first call, which
    then reuses it: when K fits, the check adds no compile.
    """
    budget = step_costs.execution_memory_budget()
    steps = idx.shape[0]
    while True:
        # The first execution as `executions` will run it (`_segment`: exact batches).
        program, args = model._train_execution(ts, adapter,
                                               *model._segment(idx, mask, 0, k)[:2])
        needed, fixed = step_costs.execution_memory(program.lower(ts, *args).compile())
        model._execution_memory = {"steps_per_execution": k, "bytes": needed,
                                   "budget": budget}
        # Halve only while that can help: the data and the state do not shrink with K.
        if k == 1 or needed <= budget or fixed >= budget:
            return k
        k = math.ceil(steps / math.ceil(steps / math.ceil(k / 2)))


def auto_k(step_seconds, step_bytes, backend):
    """"auto" K of an array `fit` before its bounds: executions of about
    `_TARGET_EXECUTION_SECONDS`, or longer on XLA:CPU where the fresh temporaries of each
    one (`step_bytes`, estimated) would otherwise be more than `_FRESH_MEMORY_SHARE` of
    it, up to `_MAX_EXECUTION_SECONDS`.

    Example:
    >>> auto_k(0.001, 1e3, "cpu"), auto_k(0.03, 1e3, "cpu"), auto_k(0.03, 9e7, "cpu")
    (200, 6, 60)
    >>> auto_k(0.03, 9e7, "gpu")
    6
    """
    k = _TARGET_EXECUTION_SECONDS / step_seconds
    fresh = step_bytes * _FRESH_MEMORY_SECONDS_PER_BYTE.get(backend, 0.0)
    if fresh > _FRESH_MEMORY_SHARE * k * step_seconds:
        k = min(fresh / (_FRESH_MEMORY_SHARE * step_seconds),
                max(k, _MAX_EXECUTION_SECONDS / step_seconds))
    return max(1, int(k))


def _measure(model, steps_per_epoch, ts, data, idx):
    """`(k, unroll)` from the step's FLOPs (the forward pass traced at the batch size: a
    few ms, where lowering the whole step for XLA's cost analysis took ~0.1 s)."""
    k = model._steps_per_execution
    backend = jax.default_backend()
    rows = idx.shape[1]
    x_spec = jax.tree_util.tree_map(
        lambda a: jax.ShapeDtypeStruct((rows,) + tuple(a.shape[1:]), a.dtype), data[0])
    custom = custom_steps.custom_steps(model, "train")
    if custom is not None:  # the user's whole step: forward, backward and update
        batch = jax.tree_util.tree_map(
            lambda a: jax.ShapeDtypeStruct((rows,) + tuple(a.shape[1:]), a.dtype),
            tuple(data)) + (jax.ShapeDtypeStruct((rows,), jnp.bool_),)
        forward = jax.make_jaxpr(lambda t, b: custom.call_train(t, b)[0])(ts, batch)
    else:
        forward = jax.make_jaxpr(lambda v, xx: model.apply(v, xx)[0])(
            {"params": ts.params, "state": ts.state}, x_spec)
    conv_on_cpu = backend == "cpu" and step_costs.has_convolution(forward)
    if k != "auto":
        # A rolled loop around a convolution is ~30x slower on XLA:CPU: unroll it.
        return max(1, min(int(k), steps_per_epoch)), conv_on_cpu
    if conv_on_cpu:
        return 1, False
    flops = (step_costs.jaxpr_flops(forward) if custom is not None
             else step_costs.train_step_flops(forward, num_elements(ts.params)))
    step_seconds = max(flops, 1e4) / _TYPICAL_FLOPS.get(backend, 1e11)
    target = auto_k(step_seconds, step_costs.jaxpr_bytes(forward), backend)
    executions = math.ceil(steps_per_epoch / min(target, steps_per_epoch))
    return math.ceil(steps_per_epoch / executions), False


__all__ = ["for_fit", "for_evaluation", "for_stream", "auto_k"]
