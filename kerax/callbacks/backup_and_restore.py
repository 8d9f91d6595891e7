"""`BackupAndRestore`: resume an interrupted `fit` exactly where it stopped.

Unlike Keras, which resumes at the last epoch boundary with fresh data order and RNG,
kerax backs up the whole training state (weights, optimizer, metric sums, RNG key, the
shuffled data order and position, callback state) in an atomic, checksummed orbax
checkpoint, so a resumed run finishes with the same bits as an uninterrupted one.

Under a distribution, sharded parameters and optimizer slots are saved shard by shard and
restored straight onto the layout the current distribution gives them (which may differ
from the one that saved them, or be none). With several processes, every process runs
the callback; process 0 commits each backup.
"""

import os
import shutil

from kerax.callbacks.callback import Callback
from kerax.checkpoint import layouts, multihost, training_checkpoint
from kerax.checkpoint.checkpoint_manager import CheckpointManager
from kerax.errors import CheckpointCorruptedError


class BackupAndRestore(Callback):
    """Backs up training in `backup_dir` and restores it when `fit` starts again.

    Args:
        backup_dir: a directory for this run's backups only.
        save_freq: `"epoch"` (at each epoch's end) or an integer: every that many batches
            (at execution boundaries when `steps_per_execution > 1`). `False`: never.
        double_checkpoint: keep the previous backup too, and fall back to it when the
            latest one is corrupted.
        delete_checkpoint: delete `backup_dir` when `fit` completes.

    Example:
    >>> import numpy as np, tempfile, kerax
    >>> model = kerax.Sequential([kerax.Input((2,)), kerax.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> cb = BackupAndRestore(tempfile.mkdtemp(), save_freq=2)
    >>> h = model.fit(np.ones((8, 2)), np.ones((8, 1)), batch_size=2, callbacks=[cb],
    ...               verbose=0)
    """

    def __init__(self, backup_dir, save_freq="epoch", double_checkpoint=False,
                 delete_checkpoint=True):
        super().__init__()
        if not backup_dir:
            raise ValueError("Empty `backup_dir` argument passed")
        if save_freq not in ("epoch", False) and (
                not isinstance(save_freq, int) or isinstance(save_freq, bool)
                or save_freq < 1):
            raise ValueError(
                "Invalid value for argument `save_freq`. "
                f"Received: save_freq={save_freq}. "
                "Expected either 'epoch' or an integer value."
            )
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.double_checkpoint = double_checkpoint
        self.delete_checkpoint = delete_checkpoint
        self._manager = None
        self._epoch = 0
        self._last_saved = None
        self._pending_callback_state = None

    def _open(self):
        if self._manager is None:
            self._manager = CheckpointManager(self.backup_dir,
                                              max_to_keep=2 if self.double_checkpoint else 1,
                                              async_write=True)
        return self._manager

    def on_train_begin(self, logs=None):
        manager = self._open()
        self._last_saved = None
        self._pending_callback_state = None
        steps = manager.all_steps()
        if not steps:
            return
        like = training_checkpoint.like(self.model)
        shardings = layouts.training_shardings(self.model, like)
        for i, step in enumerate(reversed(steps)):
            try:
                training_checkpoint.check_data(self.model, manager.metadata(step))
                tree, metadata = manager.restore(step, like=like, shardings=shardings)
            except CheckpointCorruptedError:
                if not self.double_checkpoint or i == len(steps) - 1:
                    raise
                continue
            self._epoch = training_checkpoint.restore(self.model, tree, metadata)
            self._pending_callback_state = metadata
            self._last_saved = step
            return

    def on_epoch_begin(self, epoch, logs=None):
        # Other callbacks reset themselves in `on_train_begin`: restore them only now.
        if self._pending_callback_state is not None:
            training_checkpoint.restore_callbacks(self.model, self._pending_callback_state)
            self._pending_callback_state = None
        self._flush_epoch_end()
        self._epoch = epoch

    def _save(self, step_in_epoch, defer=False):
        steps = self.model.fit_run.steps_in_epoch
        global_step = self._epoch * steps + step_in_epoch
        if global_step == self._last_saved:
            return
        tree, metadata = training_checkpoint.capture(self.model, self._epoch, step_in_epoch)
        self._last_saved = global_step
        if defer:
            self._deferred = (global_step, tree, metadata)
        else:
            self._open().save(global_step, tree, metadata)

    def _flush_epoch_end(self):
        """Writes the epoch-end backup once every callback's `on_epoch_end` has run, so
        their state (EarlyStopping's wait, ...) includes this epoch."""
        if getattr(self, "_deferred", None) is None:
            return
        global_step, tree, metadata = self._deferred
        self._deferred = None
        metadata["callbacks"] = training_checkpoint.callback_states(self.model)
        self._open().save(global_step, tree, metadata)

    def on_train_batch_end(self, batch, logs=None):
        if isinstance(self.save_freq, int) and not isinstance(self.save_freq, bool):
            done = self.model.fit_run.steps_done  # `batch` passes it after a short execution
            steps = self.model.fit_run.steps_in_epoch
            global_step = self._epoch * steps + done
            last = self._last_saved or 0
            if global_step - last >= self.save_freq:
                self._save(done)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save(self.model.fit_run.steps_in_epoch, defer=True)

    def on_train_end(self, logs=None):
        self._flush_epoch_end()
        if self._manager is not None:
            self._manager.wait_until_finished()
        if self.delete_checkpoint:
            if multihost.is_primary() and os.path.exists(self.backup_dir):
                shutil.rmtree(self.backup_dir)
            multihost.sync(f"kerax-backup-deleted:{os.path.abspath(self.backup_dir)}")
            self._manager = None
