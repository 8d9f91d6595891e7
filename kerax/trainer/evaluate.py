"""`evaluate` and `predict`: one driver each for every input kind and every step kind.

The data adapter's executions (`kerax.trainer.executions`) run the model's test or
predict step, built-in or custom; `evaluate` through the one epoch loop
(`epoch_loop.evaluate_epoch`).
"""

import jax
import numpy as np

from kerax.callbacks.callback_list import CallbackList
from kerax.distribution import placement
from kerax.trainer import epoch_loop
from kerax.trainer import exclusive
from kerax.trainer import inputs
from kerax.trainer import steps as steps_lib
from kerax.trainer import steps_per_execution
from kerax.trainer.executions import executions_for
from kerax.trainer.pytrees import concat_outputs, host_value


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
    ts = model._make_test_state()
    try:
        ts, logs, step = epoch_loop.evaluate_epoch(ts, ex.test(ts, plan, k), cbs, k)
    finally:
        adapter.close()
    if ex.is_stream and step == 0:
        raise ValueError("The evaluation data is empty: the dataset yielded no batches.")
    model._store_metric_objects(ts.metric_state, "test")
    # As Keras: the state a layer assigned in `call` stays (before `on_test_end`).
    model._variables = {"params": model.variables["params"], "state": ts.state}
    logs = {name: host_value(v) for name, v in logs.items()}
    cbs.on_test_end(logs)
    return logs if return_dict else model._flatten_logs(logs)


def predict(model, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
    """`model.predict(...)` (Keras 3's arguments): the outputs, batch by batch.

    Example:
    >>> import numpy as np, kerax
    >>> model = kerax.Sequential([kerax.Input((4,)), kerax.layers.Dense(2)])
    >>> predict(model, np.ones((5, 4)), verbose=0).shape
    (5, 2)
    """
    adapter, _ = inputs.open_input(model, "predict", x, batch_size=batch_size, steps=steps)
    ex = executions_for(model, adapter)
    verbose = 1 if verbose == "auto" else verbose
    cbs = CallbackList(callbacks, add_progbar=verbose != 0, model=model, verbose=verbose,
                       epochs=1, steps=adapter.steps_per_epoch)
    plan = ex.epoch_plan()
    k = steps_per_execution.for_evaluation(model, adapter, cbs, "predict", plan)
    cbs.on_predict_begin()  # before reading the variables (SwapEMAWeights)
    placement.place_variables(model)
    params, state = model.variables["params"], model.variables["state"]
    outs, masks, step = [], [], 0
    try:
        for program, args, size, mask in ex.predict(plan, k):
            cbs.on_predict_batch_begin(step)
            with jax.profiler.StepTraceAnnotation("predict", step_num=step):
                out, state = program(params, state, *args)
            outs.append(placement.to_host(out))
            masks.append(np.asarray(mask).reshape(-1))
            begin, step = step, step + size
            cbs.set_steps_done(step)
            cbs.on_predict_batch_end(epoch_loop.batch_end_index(begin, k), {
                "outputs": steps_lib.real_rows(outs[-1], mask)})
    finally:
        adapter.close()
    # As Keras: the state a layer assigned in `call` stays (before `on_predict_end`, where
    # SwapEMAWeights swaps the weights back).
    model._variables = {"params": params, "state": state}
    cbs.on_predict_end()
    if not outs:
        raise ValueError("The prediction data is empty: the dataset yielded no batches.")
    return concat_outputs(outs, np.concatenate(masks))


__all__ = ["evaluate", "predict"]
