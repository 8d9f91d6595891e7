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
import warnings

from kerax.callbacks.model_checkpoint import ModelCheckpoint
from kerax.callbacks.monitor_callback import MonitorCallback
from kerax.saving import model_config, orbax_reader
from kerax.checkpoint import multihost
from kerax.checkpoint.checkpoint_manager import CheckpointManager
from kerax.trainer import train_state_store

FORMAT = orbax_reader.FORMAT


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
    if model._variables is None:
        raise ValueError(f"Model '{model.name}' is not built, so it has no state to save.")
    tree = {"params": model._variables["params"], "state": model._variables["state"]}
    metadata = {"format": FORMAT, "weights_only": bool(weights_only)}
    if not weights_only:
        optimizer = getattr(model, "optimizer", None)
        if optimizer is not None and optimizer.state is not None:
            tree["opt_state"] = optimizer.state
        if train_state_store.train_rng(model) is not None:
            tree["rng"] = train_state_store.train_rng(model)
        metadata["model_config"] = model_config.serialize_model(model)
    return tree, metadata


load_model_from_checkpoint = orbax_reader.load_model_from_checkpoint
load_weights_from_checkpoint = orbax_reader.load_weights_from_checkpoint
