"""`fit`: one `prepare_fit` and one driver for every input kind and every step kind.

`prepare_fit` checks the data, builds the model and its metrics, and returns the
`FitRun` (adapter, executions, K, callbacks, validation data); `run_fit` runs its epochs
through the one epoch loop (`epoch_loop.train_epoch`), validating with `evaluate`.
"""

import warnings

from kerax.backend import switches
from kerax.callbacks.callback_list import CallbackList
from kerax.distribution.fit_banner import fit_banner
from kerax.trainer import compile_cache
from kerax.trainer import epoch_loop
from kerax.trainer import exclusive
from kerax.trainer import inputs
from kerax.trainer import steps_per_execution
from kerax.trainer.data_adapters import stream_data_adapter
from kerax.trainer.executions import executions_for
from kerax.trainer.fit_run import FitRun
from kerax.trainer.pytrees import host_value
from kerax.utils import io_utils


def prepare_fit(model, x=None, y=None, batch_size=None, epochs=1, verbose="auto",
                callbacks=None, validation_split=0.0, validation_data=None, shuffle=True,
                class_weight=None, sample_weight=None, initial_epoch=0, steps_per_epoch=None,
                validation_steps=None, validation_batch_size=None, validation_freq=1):
    """The `FitRun` of `model.fit(...)` with these arguments (Keras 3's), ready to run.

    Sets `model.fit_run`. Nothing trains and no callback is called yet; the first
    execution may be compiled (to bound "auto" K by its memory).

    Example:
    >>> import numpy as np, kerax
    >>> model = kerax.Sequential([kerax.Input((4,)), kerax.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> run = prepare_fit(model, np.ones((8, 4)), np.ones((8, 1)), batch_size=4, verbose=0)
    >>> run.adapter.steps_per_epoch, run is model.fit_run
    (2, True)
    >>> len(run_fit(run).history["loss"])
    1
    """
    model._require_compiled("fit")
    exclusive.check(model, "fit")  # never replace the `fit_run` another thread runs
    if switches.max_epochs() is not None:
        epochs = min(epochs, switches.max_epochs())
    if switches.max_steps_per_epoch() is not None:
        steps_per_epoch = min(steps_per_epoch or switches.max_steps_per_epoch(),
                              switches.max_steps_per_epoch())
    adapter, validation = inputs.open_input(
        model, "fit", x, y, sample_weight, batch_size, steps_per_epoch, shuffle, class_weight,
        validation_split, validation_data)
    verbose = 1 if verbose == "auto" else verbose
    banner = fit_banner(getattr(adapter, "batch_size", None)) if verbose else None
    if banner:
        io_utils.print_msg(banner)
    cbs = callbacks if isinstance(callbacks, CallbackList) else CallbackList(
        callbacks, add_history=True, add_progbar=verbose != 0, model=model, verbose=verbose,
        epochs=epochs, steps=adapter.steps_per_epoch)
    model.stop_training = False
    run = model.fit_run = FitRun(model, adapter, cbs)
    run.executions = executions_for(model, adapter)
    ts = model._make_train_state()  # also builds the optimizer state a backup restores into
    run.first_plan = run.executions.epoch_plan()
    k, run.compiled_ahead = steps_per_execution.for_fit(model, adapter, cbs, ts,
                                                        run.first_plan)
    run.steps_per_execution = k
    if run.first_plan is not None:
        model._fit_steps_per_execution = k  # evaluate's K after a fit on arrays
    run.epochs, run.initial_epoch = epochs, initial_epoch
    if initial_epoch > epochs:  # Keras trains nothing and says nothing
        warnings.warn(
            f"`initial_epoch={initial_epoch}` is greater than `epochs={epochs}`: `fit` trains "
            "no epoch (as in Keras) and returns an empty history. `epochs` is the index of "
            "the last epoch, not a count of more epochs: pass "
            f"`epochs={initial_epoch + epochs}` to train {epochs} more.", stacklevel=3)
    run.validation, run.validation_freq = validation, validation_freq
    run.validation_steps = validation_steps
    run.validation_batch_size = validation_batch_size or batch_size
    return run


def run_fit(run):
    """Runs a prepared `FitRun`'s epochs; returns the model's `History`."""
    with exclusive.guard(run.model, "fit"):
        return _run_fit(run)


def _run_fit(run):
    model, cbs, ex = run.model, run.callbacks, run.executions
    cbs.on_train_begin()
    # A callback (BackupAndRestore) may have restored a mid-training state: resume at its
    # epoch and step, with its epoch plan (arrays) and partial-epoch metrics.
    resume = run.take_resume_point()
    initial_epoch, start_step, plan = run.initial_epoch, 0, run.first_plan
    if resume is not None:
        initial_epoch, start_step = resume["epoch"], resume["step"]
        if not ex.is_stream:
            plan = resume["plan"] if resume["plan"] is not None else ex.epoch_plan()
    logs, ahead, steps_trained = {}, run.compiled_ahead, 0
    try:
        for epoch in range(initial_epoch, run.epochs):
            if epoch > initial_epoch:
                plan = ex.epoch_plan()
            if plan is not None:
                run.epoch_plan = plan
            run.adapter.on_epoch_begin()
            cbs.on_epoch_begin(epoch)
            model._reset_attribute_metrics()  # as Keras' `reset_metrics()` here
            ts = model._make_train_state()
            if start_step:
                ts = ts._replace(metric_state=resume["metric_state"])
            with compile_cache.track() as compiled:
                logs, step = epoch_loop.train_epoch(
                    model, ts, ex.train(ts, plan, run.steps_per_execution, start_step), cbs,
                    run.steps_per_execution, start_step, first_step=steps_trained)
                steps_trained += step
                if ex.is_stream and step == 0 and not logs:
                    raise ValueError(
                        "The training data is empty: the dataset or generator yielded no "
                        "batches in this epoch. Check its length, or that a generator is not "
                        "exhausted.")
                start_step = 0
                run.adapter.on_epoch_end()
                logs.update(_validate(run, epoch))
            if ahead is not None:  # counted with the first epoch, whose program it is
                for field in ("compiles", "cache_hits", "seconds"):
                    setattr(compiled, field, getattr(compiled, field) + getattr(ahead, field))
                ahead = None
            _note_compiles(model, epoch, compiled)
            logs = {name: host_value(v) for name, v in logs.items()}
            cbs.on_epoch_end(epoch, logs)
            if model.stop_training or run.adapter.exhausted:
                break
    finally:
        run.adapter.close()
    cbs.on_train_end(logs)
    return model.history


def _validate(run, epoch):
    """The `val_` logs of `epoch` (none when `validation_freq` skips it)."""
    if run.validation is None or not _should_validate(epoch, run.validation_freq):
        return {}
    x, y, sample_weight = run.validation
    if (run.validation_adapter is None and hasattr(x, "__next__")
            and not stream_data_adapter.is_grain(x)):  # a generator or iterator
        # As Keras, one adapter for every validation of this `fit`: each pass replays the
        # batches peeked at the first one, then reads on where the last pass stopped.
        run.validation_adapter, _ = inputs.open_input(
            run.model, "evaluate", x, batch_size=run.validation_batch_size,
            steps=run.validation_steps)
    logs = run.model.evaluate(x, y, sample_weight=sample_weight,
                              batch_size=run.validation_batch_size,
                              steps=run.validation_steps, verbose=0, return_dict=True,
                              _callbacks=run.callbacks, _adapter=run.validation_adapter)
    return {"val_" + name: v for name, v in logs.items()}


def _should_validate(epoch, freq):
    if isinstance(freq, int):
        return (epoch + 1) % freq == 0
    return (epoch + 1) in freq


def _note_compiles(model, epoch, compiled):
    model.__dict__.setdefault("compile_stats", []).append({
        "epoch": epoch, "compiles": compiled.compiles, "cache_hits": compiled.cache_hits,
        "seconds": compiled.seconds})
    if compiled.compiles and compile_cache.log_compiles():
        print(compile_cache.describe(compiled, f"Epoch {epoch + 1}"), flush=True)


def fit(model, *args, **kwargs):
    """`model.fit(...)`: `run_fit(prepare_fit(model, ...))`."""
    return run_fit(prepare_fit(model, *args, **kwargs))


__all__ = ["prepare_fit", "run_fit", "fit"]
