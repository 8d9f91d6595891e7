"""`evaluate` and `predict`: one driver each for every input kind and every step kind.

The data adapter's executions (`kerax.trainer.executions`) run the model's test or
predict step, built-in or custom; `evaluate` through the one epoch loop
(`epoch_loop.evaluate_epoch`).
"""

import jax
import numpy as np

from kerax.callbacks.callback_list import CallbackList
from kerax.callbacks.progbar_logger import ProgbarLogger
from kerax.distribution import placement
from kerax.layers import live_variables
from kerax.trainer import epoch_loop
from kerax.trainer import exclusive
from kerax.trainer import inputs
from kerax.trainer import predict_plan
from kerax.trainer import steps as steps_lib
from kerax.trainer import steps_per_execution
from kerax.trainer.executions import executions_for
from kerax.trainer.pytrees import concat_outputs, host_value
from kerax.utils.progbar import Progbar


def evaluate(model, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
             steps=None, callbacks=None, return_dict=False, _callbacks=None, _adapter=None):
    """`model.evaluate(...)` (Keras 3's arguments); `_callbacks`: `fit`'s, when
    validating; `_adapter`: the validation adapter `fit` keeps across epochs (a
    generator's, which starts a new pass here).

    Example:
    >>> import numpy as np, kerax
    >>> model = kerax.Sequential([kerax.Input((4,)), kerax.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> sorted(evaluate(model, np.ones((8, 4)), np.ones((8, 1)), verbose=0,
    ...                 return_dict=True))
    ['loss']
    """
    with exclusive.guard(model, "evaluate"):
        return _evaluate(model, x, y, batch_size, verbose, sample_weight, steps, callbacks,
                         return_dict, _callbacks, _adapter)


def _evaluate(model, x, y, batch_size, verbose, sample_weight, steps, callbacks,
              return_dict, _callbacks, _adapter):
    model._require_compiled("evaluate")
    if _adapter is None:
        adapter, _ = inputs.open_input(model, "evaluate", x, y, sample_weight, batch_size,
                                       steps)
    else:
        adapter = _adapter
        adapter.new_pass()
    ex = executions_for(model, adapter)
    verbose = 1 if verbose == "auto" else verbose
    cbs = _callbacks if _callbacks is not None else CallbackList(
        callbacks, add_progbar=verbose != 0, model=model, verbose=verbose, epochs=1,
        steps=adapter.steps_per_epoch, mode="test")
    plan = ex.epoch_plan()
    k = steps_per_execution.for_evaluation(model, adapter, cbs, "test", plan)
    cbs.on_test_begin()  # before reading the variables: SwapEMAWeights swaps them here
    model._reset_attribute_metrics()  # as Keras' `reset_metrics()` here
    placement.place_variables(model)  # the variables keep the distribution's layout
    ts = model._make_test_state()
    try:
        ts, logs, step = epoch_loop.evaluate_epoch(ts, ex.test(ts, plan, k), cbs, k)
    finally:
        adapter.close()
    if ex.is_stream and step == 0:
        raise ValueError("The evaluation data is empty: the dataset yielded no batches.")
    model._store_metric_objects(ts.metric_state, "test")
    # As Keras: the state a layer assigned in `call` stays (before `on_test_end`).
    model._variables = {"params": model._variables["params"], "state": ts.state}
    logs = {name: host_value(v) for name, v in logs.items()}
    cbs.on_test_end(logs)
    return logs if return_dict else model._flatten_logs(logs)


class _NoCallbacks:
    """The callbacks of a `predict` without callbacks and with `verbose=0`: none."""

    callbacks = ()

    def _none(self, *args, **kwargs):
        pass

    on_predict_begin = on_predict_end = on_predict_batch_begin = _none
    on_predict_batch_end = set_steps_done = _none


_SILENT = _NoCallbacks()


class _ProgbarOnly(_NoCallbacks):
    """The callbacks of a kept `predict` with a progress bar and no callbacks: the bar a
    `ProgbarLogger` draws for `predict`, drawn directly (no logger, no dispatch)."""

    def __init__(self, verbose, steps):
        self.verbose, self.steps, self.done = verbose, steps, 0

    def on_predict_begin(self):
        self.bar = Progbar(self.steps, verbose=self.verbose)

    def set_steps_done(self, steps):
        self.done = steps

    def on_predict_batch_end(self, batch, logs):
        self.bar.update(self.done, finalize=False)

    def on_predict_end(self):
        self.bar.update(self.done, finalize=True)


def predict(model, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
    """`model.predict(...)` (Keras 3's arguments): the outputs, batch by batch.

    A repeated call on an array of the same shape and dtype, without callbacks of its
    own, runs the plan the first one checked and made (`kerax.trainer.predict_plan`).

    Example:
    >>> import numpy as np, kerax
    >>> model = kerax.Sequential([kerax.Input((4,)), kerax.layers.Dense(2)])
    >>> predict(model, np.ones((5, 4)), verbose=0).shape
    (5, 2)
    """
    verbose = 1 if verbose == "auto" else verbose
    cache_key = predict_plan.key(model, x, batch_size, steps, callbacks)
    kept = predict_plan.lookup(model, cache_key)
    if kept is not None:
        cbs = _SILENT if verbose == 0 else _ProgbarOnly(verbose, kept.plan[0].shape[0])
        return _run(model, predict_plan.executions(kept, x), cbs, kept.k, rows=kept.rows)
    adapter, _ = inputs.open_input(model, "predict", x, batch_size=batch_size, steps=steps)
    ex = executions_for(model, adapter)
    cbs = CallbackList(callbacks, add_progbar=verbose != 0, model=model, verbose=verbose,
                       epochs=1, steps=adapter.steps_per_epoch)
    plan = ex.epoch_plan()
    k = steps_per_execution.for_evaluation(model, adapter, cbs, "predict", plan)
    executions = ex.predict(plan, k)
    # (A dict with keys the model does not take keeps no plan: each call warns of them.)
    if cache_key is not None and not ex.is_stream and not inputs.unused_keys(model, x):
        executions = list(executions)
        predict_plan.keep(model, cache_key, plan, k, executions, x)
    return _run(model, executions, cbs, k, adapter.close)


def _run(model, executions, cbs, k, close=None, rows=None):
    """Runs `predict`'s executions (`k` steps each) with its callbacks; returns the
    outputs' real `rows` (by default, those the executions' masks mark). `close` closes
    the data adapter after the last execution."""
    cbs.on_predict_begin()  # before reading the variables (SwapEMAWeights)
    placement.place_variables(model)
    variables = live_variables.read_checked(model) or model._variables
    params, state = variables["params"], variables["state"]
    # Only a callback other than the progress bar reads the batches' outputs.
    reads_outputs = any(not isinstance(c, ProgbarLogger) for c in cbs.callbacks)
    # (A step annotation costs a microsecond: only while a profiler traces.)
    traced = jax.profiler.TraceAnnotation.is_enabled()
    outs, masks, step = [], [], 0
    try:
        for program, args, size, mask in executions:
            cbs.on_predict_batch_begin(step)
            if traced:
                with jax.profiler.StepTraceAnnotation("predict", step_num=step):
                    out, state = program(params, state, *args)
            else:
                out, state = program(params, state, *args)
            outs.append(placement.to_host(out))
            if rows is None:
                masks.append(np.asarray(mask).reshape(-1))
            begin, step = step, step + size
            cbs.set_steps_done(step)
            cbs.on_predict_batch_end(epoch_loop.batch_end_index(begin, k), {
                "outputs": steps_lib.real_rows(outs[-1], mask) if reads_outputs else None})
    finally:
        if close is not None:
            close()
    # As Keras: the state a layer assigned in `call` stays (before `on_predict_end`, where
    # SwapEMAWeights swaps the weights back). A model without state has nothing to keep.
    if jax.tree_util.tree_leaves(state):
        model._variables = {"params": params, "state": state}
    cbs.on_predict_end()
    if not outs:
        raise ValueError("The prediction data is empty: the dataset yielded no batches.")
    if rows is None:
        rows = np.concatenate(masks) if len(masks) > 1 else masks[0]
    return concat_outputs(outs, rows)


__all__ = ["evaluate", "predict"]
