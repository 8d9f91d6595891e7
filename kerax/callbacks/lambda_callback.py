"""`LambdaCallback`: a callback made of plain functions."""

from kerax.callbacks.callback import Callback

_HOOKS = ("on_epoch_begin", "on_epoch_end", "on_train_begin", "on_train_end",
          "on_train_batch_begin", "on_train_batch_end")


class LambdaCallback(Callback):
    """Calls the given functions at the matching hooks (Keras 3's arguments).

    `on_epoch_*(epoch, logs)`, `on_train_batch_*(batch, logs)`, `on_train_*(logs)`; other
    hooks can be passed as keyword arguments, e.g. `on_test_end=fn`.

    Example:
    >>> seen = []
    >>> cb = LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(epoch))
    >>> cb.on_epoch_end(3, {})
    >>> seen
    [3]
    """

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None,
                 on_train_end=None, on_train_batch_begin=None, on_train_batch_end=None,
                 **kwargs):
        super().__init__()
        self.__dict__.update(kwargs)
        given = dict(zip(_HOOKS, (on_epoch_begin, on_epoch_end, on_train_begin, on_train_end,
                                  on_train_batch_begin, on_train_batch_end)))
        for name, fn in given.items():
            if fn is not None:
                setattr(self, name, fn)
