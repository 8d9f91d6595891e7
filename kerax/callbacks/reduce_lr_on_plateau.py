"""`ReduceLROnPlateau`: lowers the learning rate when a monitored value stalls."""

import warnings

import numpy as np

from kerax.callbacks.monitor_callback import MonitorCallback


def _optimizers(optimizer):
    return list(optimizer.optimizers) if hasattr(optimizer, "optimizers") else [optimizer]


def add_learning_rates(model, logs):
    """Adds `learning_rate` (or `learning_rate_<name>` per inner optimizer) to `logs`."""
    optimizer = model.optimizer
    if hasattr(optimizer, "optimizers"):
        for opt in optimizer.optimizers:
            logs[f"learning_rate_{opt.name}"] = float(np.asarray(opt.learning_rate))
    else:
        logs["learning_rate"] = float(np.asarray(optimizer.learning_rate))
    return logs


class ReduceLROnPlateau(MonitorCallback):
    """Multiplies the learning rate by `factor` after `patience` epochs without improvement.

    Args:
        monitor: the logged value to watch.
        factor: the multiplier, `new_lr = lr * factor` (must be < 1).
        patience: epochs without improvement before reducing.
        verbose: 1 prints each reduction.
        mode: `"auto"`, `"min"` or `"max"`.
        min_delta: the smallest change that counts as an improvement.
        cooldown: epochs to wait after a reduction before counting again.
        min_lr: the learning rate never goes below this.

    Example:
    >>> cb = ReduceLROnPlateau(monitor="loss", factor=0.5, patience=2)
    """

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto",
                 min_delta=1e-4, cooldown=0, min_lr=0.0, **kwargs):
        super().__init__(monitor, mode, min_delta=min_delta)
        if factor >= 1.0:
            raise ValueError(
                f"ReduceLROnPlateau does not support a factor >= 1.0. Received factor={factor}"
            )
        self.factor = factor
        self.min_lr = min_lr
        self.patience = patience
        self.verbose = verbose
        self.cooldown = cooldown
        self.cooldown_counter = 0
        self.wait = 0

    def on_train_begin(self, logs=None):
        self.best = None
        self.cooldown_counter = 0
        self.wait = 0

    def in_cooldown(self):
        return self.cooldown_counter > 0

    def _reduce(self, optimizer, epoch, name=""):
        old = float(np.asarray(optimizer.learning_rate))
        if old <= np.float32(self.min_lr):
            return False
        new = max(old * self.factor, self.min_lr)
        optimizer.learning_rate = new
        if self.verbose > 0:
            who = f" {name}" if name else ""
            print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing{who} learning rate to {new}.")
        return True

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op()
        logs = add_learning_rates(self.model, logs if logs is not None else {})
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(f"Learning rate reduction is conditioned on metric `{self.monitor}` "
                          f"which is not available. Available metrics are: {','.join(logs)}.",
                          stacklevel=2)
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self._is_improvement(current, self.best):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience:
                multi = hasattr(self.model.optimizer, "optimizers")
                reduced = False
                for opt in _optimizers(self.model.optimizer):
                    reduced |= self._reduce(opt, epoch, opt.name if multi else "")
                if reduced:
                    self.cooldown_counter = self.cooldown
                    self.wait = 0

    def _get_checkpoint_state(self):
        return {"wait": self.wait, "cooldown_counter": self.cooldown_counter,
                "best": None if self.best is None else float(self.best)}

    def _set_checkpoint_state(self, s):
        self.wait, self.cooldown_counter, self.best = s["wait"], s["cooldown_counter"], s["best"]
