"""Which callbacks must see every batch: then "auto" runs one step per execution.

Keras 3 runs one step per execution by default, so a callback's batch hooks fire once
per batch, with that batch's logs, and what they do (`model.stop_training`, a new
learning rate, an exception) takes effect before the next batch. kerax's "auto"
`steps_per_execution` fuses steps for speed; it keeps Keras' behaviour by choosing one
step per execution while a callback that acts on batches is present. The progress bar
and `History` do not need it, nor do checkpoint callbacks that save per epoch.
"""

from kerax.callbacks.callback import Callback
from kerax.callbacks.history import History
from kerax.callbacks.progbar_logger import ProgbarLogger

_HOOKS = {
    "train": ("on_train_batch_begin", "on_train_batch_end", "on_batch_begin",
              "on_batch_end"),
    "test": ("on_test_batch_begin", "on_test_batch_end"),
    "predict": ("on_predict_batch_begin", "on_predict_batch_end"),
}


def _overrides(callback, name):
    if name in getattr(callback, "__dict__", {}):  # LambdaCallback's functions
        return True
    return getattr(type(callback), name, None) is not getattr(Callback, name)


def needs_each_batch(callbacks, mode):
    """Whether a callback in `callbacks` (a `CallbackList` or a list) overrides a
    `mode` ("train", "test", "predict") batch hook and so must see every batch.

    Example:
    >>> import kerax
    >>> class Watch(kerax.callbacks.Callback):
    ...     def on_train_batch_end(self, batch, logs=None):
    ...         pass
    >>> needs_each_batch([Watch()], "train"), needs_each_batch([Watch()], "test")
    (True, False)
    """
    for cb in getattr(callbacks, "callbacks", callbacks) or []:
        if isinstance(cb, (History, ProgbarLogger)):
            continue
        if getattr(cb, "save_freq", None) == "epoch" or getattr(cb, "update_freq",
                                                                None) == "epoch":
            continue  # checkpoints and TensorBoard that act per epoch
        if any(_overrides(cb, name) for name in _HOOKS[mode]):
            return True
    return False


__all__ = ["needs_each_batch"]
