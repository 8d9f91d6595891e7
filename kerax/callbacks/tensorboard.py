"""`TensorBoard`: event files with scalars and weight histograms, without TensorFlow.

Events are written with `tensorboardX` (an optional extra: `pip install tensorboardX`),
in Keras 3's layout: `log_dir/train` and `log_dir/validation`, tags `epoch_<name>`
(validation logs without the `val_` prefix), `epoch_learning_rate`, `batch_<name>` with
`update_freq`, `evaluation_<name>_vs_iterations`, and `<weight path>/histogram`.
"""

import os

import numpy as np

from kerax.callbacks.callback import Callback
from kerax.callbacks.reduce_lr_on_plateau import add_learning_rates


def _summary_writer_class():
    try:
        from tensorboardX import SummaryWriter
    except ImportError:
        raise ImportError(
            "The TensorBoard callback writes event files with the optional package "
            "`tensorboardX`, which is not installed. Install it with "
            "`pip install tensorboardX`."
        ) from None
    return SummaryWriter


class TensorBoard(Callback):
    """Logs training to TensorBoard event files (Keras 3's arguments).

    Args:
        log_dir: the directory for the `train` and `validation` event files.
        histogram_freq: every that many epochs, write weight histograms (0: never).
        write_graph, write_images, profile_batch, embeddings_freq, embeddings_metadata:
            accepted for Keras compatibility; graphs, images, profiles and embeddings are
            not written.
        write_steps_per_second: also log `steps_per_second` per epoch.
        update_freq: `"epoch"`, `"batch"` or an integer: log `batch_<name>` scalars every
            that many batches. With `steps_per_execution > 1`, batch logs exist only at
            execution boundaries.

    Example:
    >>> import tempfile
    >>> cb = TensorBoard(log_dir=tempfile.mkdtemp(), update_freq=2)
    """

    def __init__(self, log_dir="logs", histogram_freq=0, write_graph=True, write_images=False,
                 write_steps_per_second=False, update_freq="epoch", profile_batch=0,
                 embeddings_freq=0, embeddings_metadata=None):
        super().__init__()
        _summary_writer_class()  # fail early with the install hint
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = histogram_freq
        self.write_graph = write_graph
        self.write_images = write_images
        self.write_steps_per_second = write_steps_per_second
        self.update_freq = 1 if update_freq == "batch" else update_freq
        self.embeddings_freq = embeddings_freq
        self.embeddings_metadata = embeddings_metadata
        self._writers = {}
        self._global_train_batch = 0
        self._last_logged_batch = 0

    def _writer(self, name):
        if name not in self._writers:
            self._writers[name] = _summary_writer_class()(os.path.join(self.log_dir, name))
        return self._writers[name]

    def on_train_begin(self, logs=None):
        self._global_train_batch = 0
        self._last_logged_batch = 0
        self._epoch_base = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_base = self._global_train_batch
        if self.write_steps_per_second:
            import time

            self._epoch_start = (time.time(), int(self.model.optimizer.iterations))

    def on_train_batch_end(self, batch, logs=None):
        self._global_train_batch = self._epoch_base + batch + 1
        if self.update_freq == "epoch" or not isinstance(logs, dict):
            return
        if self._global_train_batch - self._last_logged_batch >= self.update_freq:
            self._last_logged_batch = self._global_train_batch
            writer = self._writer("train")
            for name, value in logs.items():
                writer.add_scalar(f"batch_{name}", float(value), self._global_train_batch)

    def on_test_end(self, logs=None):
        if self.model.optimizer is None or not logs:
            return
        writer = self._writer("validation")
        step = int(self.model.optimizer.iterations)
        for name, value in logs.items():
            writer.add_scalar(f"evaluation_{name}_vs_iterations", float(value), step)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        train = {k: v for k, v in logs.items() if not k.startswith("val_")}
        val = {k[4:]: v for k, v in logs.items() if k.startswith("val_")}
        if self.model.optimizer is not None:
            add_learning_rates(self.model, train)
        if self.write_steps_per_second:
            import time

            t0, it0 = self._epoch_start
            train["steps_per_second"] = (int(self.model.optimizer.iterations) - it0) / max(
                time.time() - t0, 1e-9)
        for name, values in (("train", train), ("validation", val)):
            if values:
                writer = self._writer(name)
                for key, value in values.items():
                    writer.add_scalar(f"epoch_{key}", float(value), epoch)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._log_weights(epoch)
        for writer in self._writers.values():
            writer.flush()

    def _log_weights(self, epoch):
        writer = self._writer("train")
        for layer in self.model.layers:
            for weight in layer.weights:
                name = getattr(weight, "path", None) or getattr(weight, "name", "weight")
                writer.add_histogram(f"{name.replace(':', '_')}/histogram",
                                     np.asarray(weight), epoch)

    def on_train_end(self, logs=None):
        for writer in self._writers.values():
            writer.close()
        self._writers = {}
