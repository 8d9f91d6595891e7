"""`Callback`: Keras 3's hooks into `fit`, `evaluate` and `predict`.

With several steps fused into one execution (`steps_per_execution`), batch hooks fire
once per execution, at its boundaries, with the index of the last step in it — as Keras
does with `steps_per_execution`. `logs` values may be device arrays; read them with
`float(...)` only when you need them (each read waits for the device).
"""


class Callback:
    """Base class of callbacks; override the hooks you need.

    Example:
    >>> class Count(Callback):
    ...     def on_epoch_end(self, epoch, logs=None):
    ...         self.last = epoch
    """

    def __init__(self):
        self.params = None
        self._model = None
        self.validation_data = None

    def set_params(self, params):
        self.params = params

    def set_model(self, model):
        self._model = model

    @property
    def model(self):
        return self._model

    def on_batch_begin(self, batch, logs=None):
        """Alias of `on_train_batch_begin` (Keras' legacy name)."""

    def on_batch_end(self, batch, logs=None):
        """Alias of `on_train_batch_end` (Keras' legacy name)."""

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs=logs)

    def on_test_batch_begin(self, batch, logs=None):
        pass

    def on_test_batch_end(self, batch, logs=None):
        pass

    def on_predict_batch_begin(self, batch, logs=None):
        pass

    def on_predict_batch_end(self, batch, logs=None):
        pass

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_test_begin(self, logs=None):
        pass

    def on_test_end(self, logs=None):
        pass

    def on_predict_begin(self, logs=None):
        pass

    def on_predict_end(self, logs=None):
        pass
