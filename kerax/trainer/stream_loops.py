"""`fit` / `evaluate` / `predict` over batch sources (PyDataset, generators, tf.data, ...).

The array path gathers batches on the device by index; here batches come from the host,
`StreamDataAdapter` pads and stacks K of them per execution and prefetches the next
execution while the current one runs. When the source's length is unknown, steps that
exist only to fill the last execution are empty (all rows masked) and the compiled step
skips them, so one program serves the whole epoch whatever the length; when it is known,
the last execution is shorter (a second program, compiled in the first epoch only).
"""

import warnings

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from kerax.callbacks.callback_list import CallbackList
from kerax.distribution import placement
from kerax.trainer import batch_hooks
from kerax.trainer import custom_steps
from kerax.trainer import epoch_loop
from kerax.trainer import stateless
from kerax.trainer import steps as steps_lib
from kerax.trainer.data_adapters.stream_data_adapter import StreamDataAdapter
from kerax.trainer.fit_run import FitRun
from kerax.trainer.train_state import TrainState

_DEFAULT_STREAM_K = 16


def _host_value(v):
    from kerax.trainer.trainer import _host_value as host

    return host(v)


def _check_stream_args(what, y, sample_weight, validation_split=0.0):
    if y is not None:
        raise ValueError(
            f"`y` must be None when `x` is a dataset, generator or PyDataset in `{what}()`: "
            "yield `(x, y)` or `(x, y, sample_weight)` batches from it instead."
        )
    if sample_weight is not None:
        raise ValueError(
            f"`sample_weight` must be None when `x` is a dataset or generator in `{what}()`: "
            "yield `(x, y, sample_weight)` batches instead."
        )
    if validation_split:
        raise ValueError(
            "`validation_split` is only supported for NumPy/JAX arrays. For a dataset or "
            "generator, pass `validation_data` instead."
        )


def make_stream_execution(step_fn, num_steps, unroll, logs_fn):
    """`execute(ts, batches, mask) -> (ts, logs)` over `num_steps` stacked batches."""

    def execute(ts, batches, mask):
        def body(carry, bm):
            (x, y, sw), m = bm
            return step_fn(carry, (x, y, sw, m)), None

        if num_steps == 1:
            ts = step_fn(ts, jax.tree_util.tree_map(lambda a: a[0], batches) + (mask[0],))
        else:
            ts, _ = lax.scan(body, ts, (batches, mask), unroll=unroll)
        return ts, logs_fn(ts.metric_state)

    return execute


def _program(model, kind, k, example_ts=None):
    mask = model._trainable_mask()
    sig = (kind, k, steps_lib_signature(mask), placement.program_key())
    fn = model._programs.get(sig)
    if fn is not None:
        return fn
    step_fns = custom_steps.StepFunctions(model, mask)
    unroll = bool(getattr(model, "_unroll_scan", False))
    flag = steps_lib.FIRST_BAD_STEP

    def logs_fn(ms):
        return {**model._metric_results(ms, "train" if kind == "stream_train" else "test"),
                flag: ms[flag]}

    if kind == "stream_predict":
        def predict(params, state, batches):
            def body(_, x):
                return None, step_fns.predict_step(params, state, x)

            return lax.scan(body, None, batches, unroll=unroll)[1]

        fn = jax.jit(predict)
    else:
        step = step_fns.train_step if kind == "stream_train" else step_fns.test_step
        fn = placement.jit_execution(make_stream_execution(step, k, unroll, logs_fn),
                                     example_ts, model, kind == "stream_train")
    model._programs[sig] = fn
    model.compile_counts[kind] = model.compile_counts.get(kind, 0) + 1
    return fn


def _executions(model, adapter, k, ts, kind):
    """The epoch loop's `(program, args, steps)` over a stream's stacked batches."""
    for batches, mask, real in adapter.executions(k):
        program = _program(model, kind, mask.shape[0], ts)
        yield program, placement.place_batches(batches, mask), real


def steps_lib_signature(tree):
    from kerax.trainer.trainer import _signature

    return _signature(tree)


def _shuffle_seed(x):
    """The seed of a PyDataset's batch orders (None: not shuffled), the same on every
    process; an infinite PyDataset is not shuffled, with Keras' warning."""
    from kerax.utils.py_dataset import PyDataset

    if not isinstance(x, PyDataset):
        return None
    try:
        endless = x.num_batches is None
    except NotImplementedError:
        endless = True
    if endless:
        warnings.warn(
            "`shuffle=True` was passed, but will be ignored since the data `x` was provided "
            "as an infinite PyDataset. The PyDataset is expected to already be shuffled.",
            stacklevel=3)
        return None
    from kerax.backend import random_state
    from kerax.trainer.trainer import _host_seed

    seed = _host_seed(random_state.next_key())
    if jax.process_count() > 1:
        from jax.experimental import multihost_utils

        seed = int(multihost_utils.broadcast_one_to_all(np.int32(seed)))
    return seed


def _prepare(model, adapter):
    x, y, sw = adapter.peek()
    _validate(model, adapter, x, y, sw)
    model._build_metrics((x, y, sw))
    return x


def _validate(model, adapter, x, y, sw):
    model._ensure_built(x)
    try:
        model._validate_against_model(x, y, sw)
        # An `add_loss` over batch rows must not see padding: batches run at their size.
        adapter.exact_rows = bool(getattr(model, "_exact_last_batch", False))
    except Exception as e:
        if adapter.kind != "grain":
            raise
        shapes = jax.tree_util.tree_map(lambda a: tuple(a.shape), x)
        raise ValueError(
            "kerax reads each element of a grain dataset as one whole batch (as Keras does), "
            f"and the first element (x shapes {shapes}) does not fit the model: {e} If the "
            "dataset yields single examples, batch it first: `dataset.batch(batch_size)`."
        ) from e


def _stream_k(model, adapter, cbs, mode):
    k = model._steps_per_execution
    if k == "auto" and batch_hooks.needs_each_batch(cbs, mode):
        k = 1  # a callback sees every batch, as in Keras
    elif k == "auto":
        k = _DEFAULT_STREAM_K
        if jax.default_backend() == "cpu" and _has_conv(model, adapter):
            k = 1
    steps = adapter.steps_per_epoch
    return max(1, min(int(k), steps)) if steps else max(1, int(k))


def _has_conv(model, adapter):
    if stateless.custom_step(model, "train"):
        return False  # a custom step need not call the model
    x, _, _ = adapter.peek()
    spec = jax.tree_util.tree_map(lambda a: jax.ShapeDtypeStruct(a.shape, a.dtype), x)
    jaxpr = jax.make_jaxpr(lambda v, xx: model.apply(v, xx)[0])(model.variables, spec)
    return steps_lib.has_convolution(jaxpr)


def fit(model, x, epochs, verbose, callbacks, validation_data, initial_epoch,
        steps_per_epoch, validation_steps, validation_batch_size, validation_freq,
        shuffle=False, class_weight=None):
    from kerax.trainer.trainer import _should_validate, _unpack_validation

    adapter = StreamDataAdapter(x, steps_per_epoch, _shuffle_seed(x) if shuffle else None,
                                class_weight)
    _prepare(model, adapter)
    cbs = callbacks if isinstance(callbacks, CallbackList) else CallbackList(
        callbacks, add_history=True, add_progbar=verbose != 0, model=model, verbose=verbose,
        epochs=epochs, steps=adapter.steps_per_epoch)
    k = _stream_k(model, adapter, cbs, "train")
    model.stop_training = False
    val = _unpack_validation(validation_data) if validation_data is not None else None
    # Read by callbacks and checkpoints (BackupAndRestore): the adapter's data position.
    run = model.fit_run = FitRun(model, adapter, cbs, k)
    model._make_train_state()  # builds the optimizer state a backup restores into
    cbs.on_train_begin()
    # A callback (BackupAndRestore) may have restored a mid-epoch state: resume there.
    resume = run.take_resume_point()
    start_step = 0
    if resume is not None:
        initial_epoch, start_step = resume["epoch"], resume["step"]
    logs = {}
    try:
        for epoch in range(initial_epoch, epochs):
            adapter.on_epoch_begin()
            cbs.on_epoch_begin(epoch)
            ts = model._make_train_state()
            if start_step:
                ts = ts._replace(metric_state=resume["metric_state"])
            logs, step = epoch_loop.train_epoch(
                model, ts, _executions(model, adapter, k, ts, "stream_train"), cbs,
                start_step)
            start_step = 0
            if step == 0 and not logs:
                raise ValueError(
                    "The training data is empty: the dataset or generator yielded no batches "
                    "in this epoch. Check its length, or that a generator is not exhausted."
                )
            adapter.on_epoch_end()
            if val is not None and _should_validate(epoch, validation_freq):
                val_logs = model.evaluate(val[0], val[1], sample_weight=val[2],
                                          batch_size=validation_batch_size,
                                          steps=validation_steps, verbose=0,
                                          return_dict=True, _callbacks=cbs)
                logs.update({"val_" + name: v for name, v in val_logs.items()})
            logs = {name: _host_value(v) for name, v in logs.items()}
            cbs.on_epoch_end(epoch, logs)
            if model.stop_training or adapter.exhausted:
                break
    finally:
        adapter.close()
    cbs.on_train_end(logs)
    return model.history


def evaluate(model, x, verbose, steps, callbacks, return_dict, _callbacks):
    adapter = StreamDataAdapter(x, steps)
    _prepare(model, adapter)
    in_fit = _callbacks is not None
    cbs = _callbacks if in_fit else CallbackList(
        callbacks, add_progbar=verbose != 0, model=model, verbose=verbose, epochs=1,
        steps=adapter.steps_per_epoch, mode="test")
    k = _stream_k(model, adapter, cbs, "test")
    cbs.on_test_begin()
    ts = TrainState(model.variables["params"], model.variables["state"], None,
                    model._init_metric_state("test"), None, jnp.zeros((), jnp.int32))
    ts = placement.place_train_state(model, ts)
    try:
        ts, logs, step = epoch_loop.evaluate_epoch(
            ts, _executions(model, adapter, k, ts, "stream_test"), cbs)
    finally:
        adapter.close()
    if step == 0:
        raise ValueError("The evaluation data is empty: the dataset yielded no batches.")
    model._store_metric_objects(ts.metric_state, "test")
    logs = {n: _host_value(v) for n, v in logs.items()}
    cbs.on_test_end(logs)
    return logs if return_dict else model._flatten_logs(logs)


def predict(model, x, verbose, steps, callbacks):
    adapter = StreamDataAdapter(x, steps)
    first_x, _, _ = adapter.peek()
    _validate(model, adapter, first_x, None, None)
    cbs = CallbackList(callbacks, add_progbar=verbose != 0, model=model, verbose=verbose,
                       epochs=1, steps=adapter.steps_per_epoch)
    k = _stream_k(model, adapter, cbs, "predict")
    cbs.on_predict_begin()
    placement.place_variables(model)
    params, state = model.variables["params"], model.variables["state"]
    outs, masks, step = [], [], 0
    try:
        for batches, mask, real in adapter.executions(k):
            cbs.on_predict_batch_begin(step)
            placed, _ = placement.place_batches(batches, mask)
            outs.append(placement.to_host(
                _program(model, "stream_predict", mask.shape[0])(params, state, placed[0])))
            masks.append(np.asarray(mask).reshape(-1))
            step += real
            cbs.on_predict_batch_end(step - 1, {"outputs": steps_lib.real_rows(
                outs[-1], masks[-1])})
    finally:
        adapter.close()
    cbs.on_predict_end()
    if not outs:
        raise ValueError("The prediction data is empty: the dataset yielded no batches.")
    rows = np.concatenate(masks)
    return jax.tree_util.tree_map(
        lambda *o: np.concatenate([np.asarray(a).reshape((-1,) + a.shape[2:]) for a in o])[rows],
        *outs)
