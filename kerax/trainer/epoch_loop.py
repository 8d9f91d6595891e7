"""The one epoch loop of `fit` and `evaluate`, over an iterator of executions.

Every input kind (arrays: index plans gathered on the device; streams: stacked,
prefetched batches) and every step kind (built-in, Keras' `train_step`, kerax's
`pure_train_step`) comes here as the same thing: an iterator of `(program, args, steps)`,
a compiled execution, its arguments after the train state, and how many real batches it
runs. Callbacks, the non-finite guard, `stop_training` and the train state are handled
here once. Each execution runs inside a `jax.profiler.StepTraceAnnotation` ("train",
"test", with the global step), so a profile (`TensorBoard(profile_batch=...)`,
`jax.profiler.trace`) shows one named event per compiled execution.
"""

import jax

from kerax.errors import NonFiniteLossError
from kerax.trainer import steps as steps_lib


def train_epoch(model, ts, executions, callbacks, k, start=0, first_step=0):
    """Runs one epoch of training executions of `k` steps each from step `start`.

    After each execution the model holds the new train state (callbacks and checkpoints
    read it), the batch hooks fire with its logs, and an optimizer state a callback
    replaced (a new learning rate) is used from the next execution on. A non-finite loss
    raises (or, with `TerminateOnNaN`, stops) one execution late, without a host sync
    per execution. As Keras, `on_train_batch_end` gets `begin + k - 1` even when the
    last execution runs fewer steps (see `batch_end_index`); `model.fit_run.steps_done`
    and the progress bar count the steps that ran. `first_step` (the steps of earlier
    epochs) numbers the profiler's step annotations across epochs.

    Returns:
        `(logs, steps)`: the last execution's logs and the step reached.
    """
    logs, step, pending = {}, start, None
    for program, args, size in executions:
        callbacks.on_train_batch_begin(step)
        with jax.profiler.StepTraceAnnotation("train", step_num=first_step + step):
            ts, logs = program(model._with_callback_changes(ts), *args)
        logs = dict(logs)
        flag = logs.pop(steps_lib.FIRST_BAD_STEP)
        logs = steps_lib.flatten_logs(logs)
        model._store_train_state(ts)
        if pending is not None and stop_on_nonfinite(model, pending, callbacks):
            return logs, step
        pending = flag
        begin, step = step, step + size
        _note_steps_done(model, callbacks, step)
        callbacks.on_train_batch_end(batch_end_index(begin, k), logs)
        ts = model._with_callback_changes(ts)
        if model.stop_training:
            break
    if pending is not None:
        stop_on_nonfinite(model, pending, callbacks)
    return logs, step


def stop_on_nonfinite(model, pending, callbacks):
    """Stops (TerminateOnNaN) or raises once a step had a non-finite loss.

    `pending` is an execution's first bad step (-1: none); returns whether to stop.
    """
    bad_step = int(pending)
    if bad_step < 0:
        return False
    # `TerminateOnNaN` (or a subclass), found by name: callbacks sit above the trainer.
    if any(k.__name__ == "TerminateOnNaN" for c in getattr(callbacks, "callbacks", [])
           for k in type(c).__mro__):
        print(f"Batch {bad_step}: Invalid loss, terminating training", flush=True)
        model.stop_training = True
        return True
    raise NonFiniteLossError(
        f"The loss became NaN or infinite at training step {bad_step}.\nTraining stopped, "
        "and the model keeps the weights and optimizer state from before that step. "
        "Common causes: a learning rate that is too high, NaN or inf values in the data "
        "(check with `np.isfinite(x).all()`), or log(0) in a custom loss. To stop "
        "without an error, pass `callbacks=[kerax.callbacks.TerminateOnNaN()]`."
    )


def batch_end_index(begin, k):
    """The batch index Keras passes to `on_*_batch_end` for an execution of `k` steps
    from `begin`: `begin + k - 1`, also when the epoch's last execution runs fewer.

    Example:
    >>> batch_end_index(2, 2)  # a 3-batch epoch with steps_per_execution=2
    3
    """
    return begin + k - 1


def _note_steps_done(model, callbacks, steps):
    """Tells the progress bar and the `FitRun` (`model` None: not training) how many
    steps of the epoch ran."""
    if hasattr(callbacks, "set_steps_done"):
        callbacks.set_steps_done(steps)
    if model is not None and getattr(model, "fit_run", None) is not None:
        model.fit_run.steps_done = steps


def evaluate_epoch(ts, executions, callbacks, k):
    """Runs one pass of evaluation executions of `k` steps each; returns
    `(ts, logs, steps)`."""
    logs, step = {}, 0
    for program, args, size in executions:
        callbacks.on_test_batch_begin(step)
        with jax.profiler.StepTraceAnnotation("test", step_num=step):
            ts, logs = program(ts, *args)
        logs = steps_lib.flatten_logs(
            {k: v for k, v in logs.items() if k != steps_lib.FIRST_BAD_STEP})
        begin, step = step, step + size
        _note_steps_done(None, callbacks, step)
        callbacks.on_test_batch_end(batch_end_index(begin, k), logs)
    return ts, logs, step


__all__ = ["train_epoch", "evaluate_epoch", "stop_on_nonfinite", "batch_end_index"]
