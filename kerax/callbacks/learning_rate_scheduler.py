"""`LearningRateScheduler`: sets the learning rate from `schedule(epoch, lr)` each epoch."""

import numpy as np

from kerax.callbacks.callback import Callback
from kerax.callbacks.reduce_lr_on_plateau import _optimizers, add_learning_rates


class LearningRateScheduler(Callback):
    """At each epoch's start, sets the rate to `schedule(epoch, lr)` (or `schedule(epoch)`).

    Args:
        schedule: a function of the 0-based epoch (and the current rate) returning a float.
        verbose: 1 prints each new rate.

    Example:
    >>> cb = LearningRateScheduler(lambda epoch, lr: lr * 0.5)
    """

    def __init__(self, schedule, verbose=0):
        super().__init__()
        self.schedule = schedule
        self.verbose = verbose

    def _update(self, optimizer, epoch):
        if not hasattr(optimizer, "learning_rate"):
            raise ValueError('Optimizer must have a "learning_rate" attribute.')
        try:
            lr = self.schedule(epoch, float(np.asarray(optimizer.learning_rate)))
        except TypeError:  # a one-argument schedule
            lr = self.schedule(epoch)
        if not isinstance(lr, (float, np.float32, np.float64)):
            raise ValueError(
                f"The output of the `schedule` function should be a float. Got: {lr}"
            )
        optimizer.learning_rate = lr
        return lr

    def on_epoch_begin(self, epoch, logs=None):
        multi = hasattr(self.model.optimizer, "optimizers")
        for opt in _optimizers(self.model.optimizer):
            lr = self._update(opt, epoch)
            if self.verbose > 0:
                who = f" {opt.name}" if multi else ""
                print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting{who} learning "
                      f"rate to {lr}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            add_learning_rates(self.model, logs)
