"""`ModelCheckpoint`: saves the model (or its weights) during training."""

import os
import warnings

import numpy as np

from kerax.callbacks.monitor_callback import MonitorCallback
from kerax.checkpoint import multihost


class ModelCheckpoint(MonitorCallback):
    """Saves the model or weights at some frequency (Keras 3's arguments).

    `filepath` may contain `{epoch}` (1-based), `{batch}` and any logged value, e.g.
    `"ckpt/{epoch:02d}-{val_loss:.2f}.keras"`. It must end in `.keras`, or in
    `.weights.h5` with `save_weights_only=True`. Files go through `model.save` /
    `model.save_weights`, which write to a temporary file and rename it into place.
    With several processes, every process runs the callback and process 0 writes the
    file; the others wait until it is in place.

    Args:
        filepath: where to save (a format string).
        monitor: the logged value `save_best_only` watches.
        verbose: 1 prints a line per save.
        save_best_only: save only when `monitor` improves.
        save_weights_only: save only the weights (`.weights.h5`).
        mode: `"auto"`, `"min"` or `"max"`.
        save_freq: `"epoch"` or an integer number of batches.
        initial_value_threshold: the value `monitor` must beat first.

    Example:
    >>> cb = ModelCheckpoint("best.keras", monitor="val_accuracy", save_best_only=True)
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False,
                 save_weights_only=False, mode="auto", save_freq="epoch",
                 initial_value_threshold=None):
        super().__init__(monitor, mode, initial_value_threshold)
        self.verbose = verbose
        self.filepath = os.fspath(filepath)
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.save_freq = save_freq
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen = None
        self._current_epoch = 0
        if save_freq != "epoch" and not isinstance(save_freq, int):
            raise ValueError(f"Unrecognized save_freq: {save_freq}. Expected save_freq are "
                             "'epoch' or integer values")
        if save_weights_only:
            if not self.filepath.endswith(".weights.h5"):
                raise ValueError(
                    "When using `save_weights_only=True` in `ModelCheckpoint`, the filepath "
                    "provided must end in `.weights.h5` (Keras weights format). Received: "
                    f"filepath={self.filepath}"
                )
        elif not self.filepath.endswith((".keras", ".h5")):
            raise ValueError("The filepath provided must end in `.keras` (Keras model "
                             f"format). Received: filepath={self.filepath}")

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self._should_save_on_batch(batch):
            self._save_model(self._current_epoch, batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op()
        if self.save_freq == "epoch":
            self._save_model(epoch, None, logs)

    def _should_save_on_batch(self, batch):
        """Whether an integer `save_freq` of batches has passed (Keras' counting: batch
        hooks may skip indices with `steps_per_execution`)."""
        if self.save_freq == "epoch":
            return False
        if self._last_batch_seen is None or batch <= self._last_batch_seen:
            added = batch + 1  # a new epoch
        else:
            added = batch - self._last_batch_seen
        self._batches_seen_since_last_saving += added
        self._last_batch_seen = batch
        self._total_batches_seen = getattr(self, "_total_batches_seen", 0) + added
        if self._batches_seen_since_last_saving >= self.save_freq:
            self._batches_seen_since_last_saving = 0
            return True
        return False

    def _should_save_model(self, epoch, logs, filepath):
        if not self.save_best_only:
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: saving model to {filepath}")
            return True
        current = (logs or {}).get(self.monitor)
        if current is None:
            warnings.warn(f"Can save best model only with {self.monitor} available.",
                          stacklevel=2)
            return True
        if np.ndim(current) > 0:
            warnings.warn("Can save best model only when `monitor` is a scalar value. "
                          f"Received: {current}. Falling back to `save_best_only=False`.")
            return True
        if self.monitor_op is None:
            self._set_monitor_op()
        best = "None" if self.best is None else f"{self.best:.5f}"
        if self._is_improvement(current, self.best):
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {best} to "
                      f"{float(current):.5f}, saving model to {filepath}")
            self.best = float(current)
            return True
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {best}")
        return False

    def _save_model(self, epoch, batch, logs):
        logs = {k: float(v) if np.ndim(v) == 0 else v for k, v in (logs or {}).items()}
        filepath = self._get_file_path(epoch, batch, logs)
        if not self._should_save_model(epoch, logs, filepath):
            return
        if os.path.isdir(filepath):
            raise IsADirectoryError(
                "Please specify a non-directory filepath for ModelCheckpoint. Filepath used "
                f"is an existing directory: {filepath}"
            )
        with multihost.host_copies(self.model):  # every process gathers split arrays
            if multihost.is_primary():
                dirname = os.path.dirname(filepath)
                if dirname:
                    os.makedirs(dirname, exist_ok=True)
                if self.save_weights_only:
                    self.model.save_weights(filepath, overwrite=True)
                else:
                    self.model.save(filepath, overwrite=True)
        multihost.sync(f"kerax-model-checkpoint:{os.path.abspath(filepath)}")
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: finished saving model to {filepath}")

    def _get_file_path(self, epoch, batch, logs):
        try:
            if batch is None or "batch" in logs:
                return self.filepath.format(epoch=epoch + 1, **logs)
            return self.filepath.format(epoch=epoch + 1, batch=batch + 1, **logs)
        except KeyError as e:
            raise KeyError(f'Failed to format this callback filepath: "{self.filepath}". '
                           f"Reason: {e}. Available keys: epoch, batch, "
                           f"{', '.join(sorted(logs))}.") from None

    def _get_checkpoint_state(self):
        return {"best": None if self.best is None else float(self.best)}

    def _set_checkpoint_state(self, s):
        self.best = s["best"]
