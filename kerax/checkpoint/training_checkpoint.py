"""The whole state of a `fit` in progress, as one checkpoint tree plus JSON metadata.

Arrays: params, model state, optimizer state, metric state (the partial epoch's sums),
the training RNG key, and the data position: the current epoch's index plan and the
adapter's current shuffled pass. Metadata: epoch, step in the epoch, the adapter's
shuffling RNG state and pass position, and each callback's state (EarlyStopping's wait
and best, ReduceLROnPlateau's cooldown, ...). Restoring all of it makes the rest of the
run bit-identical to an uninterrupted one.

A batch source (PyDataset, grain, generator: `StreamDataAdapter`) keeps its data position
in the metadata only (`adapter.get_position()`: batch index, grain iterator state).

Everything is read from and restored into the `FitRun` of the `fit` in progress
(`model.fit_run`): the adapter, the epoch's plan, the callbacks and the train state.
"""

import jax
import numpy as np


def _callback_key(i, cb):
    return f"{i}:{type(cb).__name__}"


def _run(model):
    run = getattr(model, "fit_run", None)
    if run is None:
        raise ValueError(
            f"Model '{model.name}' has no `fit` in progress: a training checkpoint is "
            "captured and restored from a callback during `fit`.")
    return run


def _callbacks(model):
    cbs = getattr(getattr(model, "fit_run", None), "callbacks", None)
    return list(getattr(cbs, "callbacks", []) or [])


def _adapter_arrays(adapter):
    b = adapter.batch_size
    if adapter._pass_plan is None:
        shape = (adapter.batches_per_pass, b)
        return np.zeros(shape, np.int32), np.zeros(shape, bool)
    return adapter._pass_plan


def _is_stream(adapter):
    return hasattr(adapter, "get_position")


def _tree(run, plan, metric_state):
    adapter = run.adapter
    if _is_stream(adapter):
        data = {}
    else:
        pass_idx, pass_mask = _adapter_arrays(adapter)
        data = {"plan_idx": plan[0], "plan_mask": plan[1], "pass_idx": pass_idx,
                "pass_mask": pass_mask}
    return {
        "params": run.variables["params"],
        "state": run.variables["state"],
        "opt_state": run.opt_state,
        "metric_state": metric_state,
        "rng": run.rng,
        "data": data,
    }


def capture(model, epoch, step_in_epoch):
    """`(tree, metadata)` of `model`'s training at `step_in_epoch` of `epoch` (0-based).

    Call it from a callback hook during `fit` (after the step's execution).
    """
    run = _run(model)
    adapter = run.adapter
    # Device arrays stay where they are, never gathered: the checkpoint manager copies
    # them on their devices (asynchronous write) or writes them (synchronous) before the
    # next training step donates their buffers. Save before the next step runs.
    tree = _tree(run, run.epoch_plan, run.metric_state)
    metadata = {
        "epoch": int(epoch),
        "step_in_epoch": int(step_in_epoch),
        "steps_per_epoch": run.steps_in_epoch,
        "iterations": int(model.optimizer.iterations),
        "data": adapter.get_position() if _is_stream(adapter) else {
            "rng_state": adapter.rng_state(),
            "pass_pos": int(adapter._pass_pos),
            "has_pass_plan": adapter._pass_plan is not None,
            "num_samples": int(adapter.num_samples),
            "batch_size": int(adapter.batch_size)},
        "callbacks": callback_states(model),
    }
    return tree, metadata


def _is_key(a):
    return isinstance(a, jax.Array) and jax.dtypes.issubdtype(a.dtype, jax.dtypes.prng_key)


def callback_states(model):
    """`{"<index>:<class>": state}` of the callbacks that keep state across a restart."""
    states = {}
    for i, cb in enumerate(_callbacks(model)):
        get = getattr(cb, "_get_checkpoint_state", None)
        if get is not None:
            states[_callback_key(i, cb)] = get()
    return states


def like(model):
    """The live structure a checkpoint must match (for validation on restore)."""
    run = _run(model)
    if _is_stream(run.adapter):
        return _tree(run, None, model._init_metric_state())
    steps = run.adapter.steps_per_epoch
    b = run.adapter.batch_size
    plan = (np.zeros((steps, b), np.int32), np.zeros((steps, b), bool))
    return _tree(run, plan, model._init_metric_state())


def check_data(model, metadata):
    """Raises if the checkpoint was written for other data or another batch size."""
    data_meta, adapter = metadata["data"], _run(model).adapter
    if _is_stream(adapter) or "source" in data_meta:
        if not _is_stream(adapter):
            raise ValueError(
                f"The checkpoint was written while training on a {data_meta['source']} "
                "input, but this `fit` trains on arrays. Resume with the same data, or "
                "start from an empty backup directory.")
        return adapter.check_position(data_meta)
    if (data_meta["num_samples"], data_meta["batch_size"]) != (adapter.num_samples,
                                                               adapter.batch_size):
        raise ValueError(
            f"The checkpoint was written while training on {data_meta['num_samples']} "
            f"samples in batches of {data_meta['batch_size']}, but this `fit` has "
            f"{adapter.num_samples} samples in batches of {adapter.batch_size}. Resume "
            "with the same data and batch size, or start from an empty backup directory."
        )


def restore(model, tree, metadata):
    """Puts a captured state back into `model` and asks `fit` to resume from it.

    Returns the epoch `fit` resumes at. Everything is read and checked first, then
    assigned, so a checkpoint that does not fit leaves the model and its data position as
    they were. Callback states are put back separately, by `restore_callbacks`, once every
    callback's `on_train_begin` (which resets them) ran.
    """
    check_data(model, metadata)
    data_meta = metadata["data"]
    run = _run(model)
    adapter = run.adapter
    to_device = lambda t: jax.tree_util.tree_map(jax.numpy.asarray, t)  # noqa: E731
    variables = {"params": to_device(tree["params"]), "state": to_device(tree["state"])}
    opt_state = to_device(tree["opt_state"])
    rng = tree["rng"] if isinstance(tree["rng"], jax.Array) else jax.numpy.asarray(tree["rng"])
    metric_state = to_device(tree["metric_state"])
    epoch, step = int(metadata["epoch"]), int(metadata["step_in_epoch"])
    mid_epoch = step < int(metadata["steps_per_epoch"])
    plan = None
    if _is_stream(adapter):
        adapter.set_position(data_meta, mid_epoch)  # checked by `check_data` above
    else:
        data = tree["data"]
        pass_plan = ((np.asarray(data["pass_idx"]), np.asarray(data["pass_mask"]))
                     if data_meta["has_pass_plan"] else None)
        if mid_epoch:
            plan = (np.asarray(data["plan_idx"]), np.asarray(data["plan_mask"]))
        pass_pos = int(data_meta["pass_pos"])
        saved_rng = adapter.rng_state()
        try:
            adapter.set_rng_state(data_meta["rng_state"])
        except (TypeError, ValueError, KeyError) as e:
            adapter.set_rng_state(saved_rng)
            raise ValueError(
                f"The checkpoint's data-order RNG state cannot be restored ({e}): it was "
                "not written by this kind of `fit`. Start from an empty backup directory."
            ) from e
        adapter._pass_pos = pass_pos
        adapter._pass_plan = pass_plan
    run.restore(variables, opt_state, rng)
    if not mid_epoch:
        epoch, step = epoch + 1, 0
    run.resume_point = {"epoch": epoch, "step": step, "plan": plan,
                        "metric_state": metric_state}
    return epoch


def restore_callbacks(model, metadata):
    """Puts each callback's saved state back (EarlyStopping's wait and best, ...)."""
    for i, cb in enumerate(_callbacks(model)):
        state = metadata["callbacks"].get(_callback_key(i, cb))
        if state is not None and hasattr(cb, "_set_checkpoint_state"):
            cb._set_checkpoint_state(state)
