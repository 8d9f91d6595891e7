"""`OrbaxCheckpoint`: Keras 3's callback that saves the model's state as numbered steps.

Built on `kerax.checkpoint.CheckpointManager`: each save is an atomic, checksummed
`step_<N>` directory (arrays written by orbax-checkpoint), asynchronous when asked (the
arrays are copied on their devices first, so the write never sees later updates), and
written shard by shard by every process under a multi-process distribution. The step
holds the model's params and state, the optimizer state and the training RNG key, and
(unless weights only) the model's Keras 3 config, compile config included, as JSON.

`kerax.saving.load_model(directory)` and `model.load_weights(directory)` read these
directories back (the root: its latest step; or one `step_<N>` directory), putting each
array straight onto the layout the current distribution gives it.

The files are kerax's own layout: kerax does not read checkpoints written by Keras'
`OrbaxCheckpoint` (step directories named `0`, `1`, ...), nor Keras these.
"""

import os
import re
import warnings

import jax

from kerax.callbacks.model_checkpoint import ModelCheckpoint
from kerax.callbacks.monitor_callback import MonitorCallback
from kerax.checkpoint import layouts, multihost
from kerax.checkpoint.array_reader import read_arrays, validate_structure
from kerax.checkpoint.checkpoint_manager import CheckpointManager
from kerax.trainer import train_state_store

FORMAT = "kerax.OrbaxCheckpoint/1"
_STEP_DIR = re.compile(r"^step_(\d+)$")


class OrbaxCheckpoint(MonitorCallback):
    """Saves the model's state into `directory` as numbered checkpoint steps.

    With `save_freq="epoch"` the step number is the epoch index (0-based); with an
    integer `save_freq` it is the number of batches seen, counted from the optimizer's
    iterations when `fit` starts (as in Keras; with `steps_per_execution > 1`, saves
    happen at execution boundaries, so the count may pass `save_freq`). Only the newest `max_to_keep` steps are
    kept. Load with `kerax.saving.load_model(directory)` (a compiled model with its
    optimizer state, so training continues exactly) or `model.load_weights(directory)`.
    The checkpoint layout is kerax's own (not Keras' orbax layout).

    Args:
        directory: where the `step_<N>` directories go.
        monitor: the logged value `save_best_only` watches.
        verbose: 1 prints a line per save.
        save_best_only: save only when `monitor` improves (a missing `monitor` skips the
            save with a warning).
        mode: `"auto"`, `"min"` or `"max"`.
        save_freq: `"epoch"` or an integer number of batches.
        initial_value_threshold: the value `monitor` must beat first.
        max_to_keep: how many newest steps to keep (None: all).
        save_on_background: write in a background thread; see `wait_until_finished()`.
        save_weights_only: save params and model state only (no config, no optimizer).

    Example:
    >>> import numpy as np, os, tempfile, kerax
    >>> model = kerax.Sequential([kerax.Input((2,)), kerax.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> ckpt = tempfile.mkdtemp()
    >>> cb = OrbaxCheckpoint(ckpt, max_to_keep=2)
    >>> _ = model.fit(np.ones((8, 2)), np.ones((8, 1)), epochs=3, callbacks=[cb],
    ...               verbose=0)
    >>> sorted(os.listdir(ckpt))
    ['step_1', 'step_2']
    >>> restored = kerax.saving.load_model(ckpt)
    >>> int(restored.optimizer.iterations)
    3
    """

    def __init__(self, directory, monitor="val_loss", verbose=0, save_best_only=False,
                 mode="auto", save_freq="epoch", initial_value_threshold=None,
                 max_to_keep=1, save_on_background=True, save_weights_only=False):
        super().__init__(monitor, mode, initial_value_threshold)
        if save_freq != "epoch" and (not isinstance(save_freq, int)
                                     or isinstance(save_freq, bool) or save_freq < 1):
            raise ValueError(f"Unrecognized save_freq: {save_freq}. Expected save_freq are "
                             "'epoch' or a positive integer number of batches.")
        self.directory = os.fspath(directory)
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_freq = save_freq
        self.max_to_keep = max_to_keep
        self.save_on_background = save_on_background
        self.save_weights_only = save_weights_only
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen = None
        self._total_batches_seen = 0
        self._manager = CheckpointManager(self.directory, max_to_keep=max_to_keep,
                                          async_write=save_on_background)

    def set_model(self, model):
        super().set_model(model)
        if getattr(model, "optimizer", None) is not None:
            self._total_batches_seen = int(model.optimizer.iterations)  # a resumed model

    def is_multihost_enabled(self):
        """True when several processes train together (`jax.distributed`)."""
        return multihost.is_multiprocess()

    def is_primary_host(self):
        """True on the process that commits the steps (process 0; always with one)."""
        return multihost.is_primary()

    def wait_until_finished(self):
        """Blocks until the background save (if any) is committed, on every process."""
        self._manager.wait_until_finished()
        multihost.sync(f"kerax-orbax-checkpoint-wait:{self._manager.directory}")

    # ------------------------------------------------------------------- hooks --
    _should_save_on_batch = ModelCheckpoint._should_save_on_batch

    def _is_best(self, logs, where):
        if not self.save_best_only:
            return True
        current = (logs or {}).get(self.monitor)
        if current is None:
            warnings.warn(f"Can save best model only with {self.monitor} available, "
                          f"skipping save at {where}.", stacklevel=3)
            return False
        if self.monitor_op is None:
            self._set_monitor_op()
        current = float(current)
        if not self._is_improvement(current, self.best):
            return False
        self.best = current
        return True

    def on_train_batch_end(self, batch, logs=None):
        if self._should_save_on_batch(batch) and self._is_best(logs, f"batch {batch}"):
            self._save(self._total_batches_seen)

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op()
        if self.save_freq == "epoch" and self._is_best(logs, f"epoch {epoch}"):
            self._save(epoch)

    def on_train_end(self, logs=None):
        self.wait_until_finished()

    def _save(self, step):
        tree, metadata = _capture(self.model, self.save_weights_only)
        if self.verbose > 0:
            print(f"\nOrbaxCheckpoint: saving step {step} to {self.directory}")
        self._manager.save(step, tree, metadata)


# ---------------------------------------------------------------------- writing --
def _capture(model, weights_only):
    """`(tree, metadata)` of one checkpoint step of `model`."""
    if model.variables is None:
        raise ValueError(f"Model '{model.name}' is not built, so it has no state to save.")
    tree = {"params": model.variables["params"], "state": model.variables["state"]}
    metadata = {"format": FORMAT, "weights_only": bool(weights_only)}
    if not weights_only:
        from kerax.saving import model_config

        optimizer = getattr(model, "optimizer", None)
        if optimizer is not None and optimizer.state is not None:
            tree["opt_state"] = optimizer.state
        if train_state_store.train_rng(model) is not None:
            tree["rng"] = train_state_store.train_rng(model)
        metadata["model_config"] = model_config.serialize_model(model)
    return tree, metadata


# ---------------------------------------------------------------------- reading --
class _Reader(CheckpointManager):
    """A `CheckpointManager` that only reads: it neither creates the directory nor
    cleans up temporaries a running `fit` may be writing."""

    def __init__(self, directory):
        self.directory = os.path.abspath(directory)
        self.max_to_keep = None
        self.async_write = False
        self._thread = None
        self._error = None


def _locate(path):
    """`(reader, step)` for a checkpoint root (its latest step) or one step directory."""
    path = os.path.abspath(os.fspath(path))
    match = _STEP_DIR.match(os.path.basename(path))
    if match and os.path.exists(os.path.join(path, "manifest.json")):
        return _Reader(os.path.dirname(path)), int(match.group(1))
    reader = _Reader(path)
    step = reader.latest_step()
    if step is not None:
        return reader, step
    names = sorted(os.listdir(path))
    if not names:
        raise ValueError(
            f"{path} is an empty directory, not a checkpoint. Pass the directory an "
            "`OrbaxCheckpoint` callback saved into (or one of its `step_<N>` directories)."
        )
    if any(n.isdigit() for n in names):
        raise ValueError(
            f"{path} looks like a checkpoint written by Keras' `OrbaxCheckpoint` (step "
            "directories named 0, 1, ...), which kerax does not read. Load it in Keras and "
            "save it with `model.save('model.keras')`, which kerax loads."
        )
    raise ValueError(
        f"No committed checkpoint step in {path}: expected `step_<N>` directories with a "
        f"`manifest.json`, as `kerax.callbacks.OrbaxCheckpoint` writes; found "
        f"{names[:5]}. A step still being written (or killed mid-write) is not committed."
    )


def _metadata(reader, step):
    metadata = reader.metadata(step)
    if metadata.get("format") != FORMAT:
        raise ValueError(
            f"{reader.step_dir(step)} was not written by `OrbaxCheckpoint` (it is a "
            "`BackupAndRestore` backup or another checkpoint); `load_model` and "
            "`load_weights` read `OrbaxCheckpoint` directories only."
        )
    return metadata


def _restore_into(model, reader, step, parts):
    """Reads the step's arrays (each onto its current layout) and puts `parts` of them
    (a subset of params, state, opt_state, rng) into `model`."""
    manifest = reader.verify(step)
    entries = manifest["arrays"]
    saved = {e["name"].split("/")[0] for e in entries}
    like = {"params": model.variables["params"], "state": model.variables["state"]}
    if "opt_state" in parts and "opt_state" in saved:
        from kerax.saving import optimizer_vars

        optimizer_vars.ensure_built(model)
        like["opt_state"] = model.optimizer.state
    where = reader.step_dir(step)
    # None with no distribution; else each part's layout, as `fit` places it.
    shardings = layouts.training_shardings(model, {"opt_state": None, **like})
    targets = [None] * len(entries)
    for part, value in like.items():
        index = [i for i, e in enumerate(entries) if e["name"].split("/")[0] == part]
        part_entries = [entries[i] for i in index]
        validate_structure(part_entries, {part: value}, where)
        if shardings is not None and shardings.get(part) is not None:
            flat = jax.tree_util.tree_structure(value).flatten_up_to(shardings[part])
            for i, target in zip(index, flat):
                targets[i] = target
    arrays = read_arrays(where, entries, targets)
    restored = {}
    for part, value in like.items():
        leaves = [a for e, a in zip(entries, arrays) if e["name"].split("/")[0] == part]
        restored[part] = jax.tree_util.tree_unflatten(
            jax.tree_util.tree_structure(value), leaves)
    model.variables = {"params": restored["params"], "state": restored["state"]}
    if "opt_state" in restored:
        model.optimizer.state = restored["opt_state"]
    if "rng" in parts and "rng" in saved:
        train_state_store.set_train_rng(
            model, next(a for e, a in zip(entries, arrays) if e["name"] == "rng"))


def load_model_from_checkpoint(path, custom_objects=None, compile=True, safe_mode=True):
    """Rebuilds the model saved by `OrbaxCheckpoint` in `path` (see `load_model`).

    Raises:
        ValueError: `path` holds no committed step, a weights-only step, or another
            kind of checkpoint.
        CheckpointCorruptedError: a file of the step is missing, truncated or altered.
        UnsafeModelError: the config would run code (a `Lambda`) and `safe_mode` is on.
    """
    from kerax.saving import model_config, object_registration, serialization_lib

    reader, step = _locate(path)
    metadata = _metadata(reader, step)
    if metadata["weights_only"]:
        raise ValueError(
            f"{reader.step_dir(step)} was saved with `save_weights_only=True`: it holds no "
            "model config. Build the model, then call `model.load_weights(directory)`."
        )
    config = metadata["model_config"]
    with serialization_lib.SafeModeScope(safe_mode):
        serialization_lib.check_config_safety(config, where=reader.step_dir(step))
        with object_registration.CustomObjectScope(custom_objects or {}):
            model = model_config.model_from_config(config, custom_objects=custom_objects)
            if compile:
                model_config.compile_from_config(model, config.get("compile_config"))
    parts = ("params", "state", "opt_state", "rng") if compile else ("params", "state")
    _restore_into(model, reader, step, parts)
    return model


def load_weights_from_checkpoint(model, path):
    """Puts the params and state (and the optimizer state, when both the checkpoint and
    the compiled model have one) of an `OrbaxCheckpoint` step into the built `model`."""
    reader, step = _locate(path)
    _metadata(reader, step)
    parts = ("params", "state")
    if getattr(model, "optimizer", None) is not None:
        parts += ("opt_state",)
    _restore_into(model, reader, step, parts)
