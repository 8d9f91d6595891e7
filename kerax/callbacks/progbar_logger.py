from kerax.callbacks.callback import Callback
from kerax.utils.progbar import Progbar


class ProgbarLogger(Callback):
    """Prints `Epoch i/n` and a progress bar with the metrics (added by `fit` when verbose).

    Example:
    >>> logger = ProgbarLogger()
    """

    def __init__(self):
        super().__init__()
        self.verbose = 1
        self.epochs = 1
        self.target = None
        self.progbar = None
        self._step = 0
        self.steps_done = None  # set by the loop (`CallbackList.set_steps_done`)

    def _done(self, batch):
        """The steps that ran: the loop's count, else `batch + 1` (Keras' reckoning)."""
        return batch + 1 if self.steps_done is None else self.steps_done

    def set_params(self, params):
        super().set_params(params)
        self.verbose = params.get("verbose", 1)
        self.epochs = params.get("epochs", 1)
        self.target = params.get("steps")

    def _reset(self, target=None):
        self.progbar = Progbar(target if target is not None else self.target,
                               verbose=self.verbose)
        self._step = 0
        self.steps_done = None

    def on_train_begin(self, logs=None):
        self._train = True

    def on_epoch_begin(self, epoch, logs=None):
        self._reset()
        if self.verbose and self.epochs > 1:
            print(f"Epoch {epoch + 1}/{self.epochs}", flush=True)

    def on_train_batch_end(self, batch, logs=None):
        self._step = self._done(batch)
        self.progbar.update(self._step, list((logs or {}).items()), finalize=False)

    def on_epoch_end(self, epoch, logs=None):
        self.progbar.update(self._step, list((logs or {}).items()), finalize=True)

    def on_test_begin(self, logs=None):
        if self.params and self.params.get("mode") == "test":
            self._reset(self.params.get("steps") if self.params else None)

    def on_test_batch_end(self, batch, logs=None):
        if self.params and self.params.get("mode") == "test":
            self._step = self._done(batch)
            self.progbar.update(self._step, list((logs or {}).items()), finalize=False)

    def on_test_end(self, logs=None):
        if self.params and self.params.get("mode") == "test":
            self.progbar.update(self._step, list((logs or {}).items()), finalize=True)

    def on_predict_begin(self, logs=None):
        self._reset(self.params.get("steps") if self.params else None)

    def on_predict_batch_end(self, batch, logs=None):
        self._step = self._done(batch)
        self.progbar.update(self._step, finalize=False)

    def on_predict_end(self, logs=None):
        self.progbar.update(self._step, finalize=True)
