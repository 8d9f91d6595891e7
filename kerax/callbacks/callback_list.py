from kerax.callbacks.callback import Callback
from kerax.callbacks.history import History
from kerax.callbacks.progbar_logger import ProgbarLogger


class CallbackList(Callback):
    """Calls a list of callbacks in order; adds `History` and `ProgbarLogger` as Keras does.

    Example:
    >>> cbs = CallbackList([], add_history=True)
    >>> isinstance(cbs.callbacks[0], History)
    True
    """

    def __init__(self, callbacks=None, add_history=False, add_progbar=False, model=None,
                 **params):
        super().__init__()
        self.callbacks = list(callbacks or [])
        if add_history and not any(isinstance(c, History) for c in self.callbacks):
            self.callbacks.append(History())
        if add_progbar and not any(isinstance(c, ProgbarLogger) for c in self.callbacks):
            self.callbacks.insert(0, ProgbarLogger())
        if model is not None:
            self.set_model(model)
        if params:
            self.set_params(params)

    def append(self, callback):
        self.callbacks.append(callback)

    def set_steps_done(self, steps):
        """Tells the progress bars how many steps of the loop ran: a batch hook's index
        (Keras' `begin + steps_per_execution - 1`) passes it after a short last
        execution."""
        for c in self.callbacks:
            if isinstance(c, ProgbarLogger):
                c.steps_done = steps

    def set_params(self, params):
        super().set_params(params)
        for c in self.callbacks:
            c.set_params(params)

    def set_model(self, model):
        super().set_model(model)
        for c in self.callbacks:
            c.set_model(model)
            if isinstance(c, History):  # as Keras: `fit` returns it even with no epoch
                model.history = c

    def _dispatch(name):
        # As Keras' CallbackList, pass `logs` (a dict, never missing) positionally to epoch
        # and begin/end hooks, so `LambdaCallback(on_epoch_begin=lambda epoch, logs: ...)`
        # works, and by keyword to batch hooks (`def on_train_batch_end(self, batch,
        # **kwargs)` works).
        with_index = not name.endswith(("_train_begin", "_train_end", "_test_begin",
                                        "_test_end", "_predict_begin", "_predict_end"))

        def hook(self, *args, logs=None):
            if with_index:
                index, logs = args[0], (args[1] if len(args) > 1 else logs)
            else:
                index, logs = None, (args[0] if args else logs)
            logs = {} if logs is None else logs
            for c in self.callbacks:
                if "_batch_" in name or name.startswith("on_batch"):
                    getattr(c, name)(index, logs=logs)
                elif with_index:
                    getattr(c, name)(index, logs)
                else:
                    getattr(c, name)(logs)

        hook.__name__ = name
        return hook

    for _name in ("on_batch_begin", "on_batch_end", "on_epoch_begin", "on_epoch_end",
                  "on_train_batch_begin", "on_train_batch_end", "on_test_batch_begin",
                  "on_test_batch_end", "on_predict_batch_begin", "on_predict_batch_end",
                  "on_train_begin", "on_train_end", "on_test_begin", "on_test_end",
                  "on_predict_begin", "on_predict_end"):
        locals()[_name] = _dispatch(_name)
    del _name, _dispatch
