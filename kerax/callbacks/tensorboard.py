"""`TensorBoard`: event files, graphs, weight images, embeddings and profiles without
TensorFlow.

Events are written with `tensorboardX` (an optional extra: `pip install tensorboardX`),
in Keras 3's layout: `log_dir/train` and `log_dir/validation`, tags `epoch_<name>`
(validation logs without the `val_` prefix), `epoch_learning_rate`, `batch_<name>` with
`update_freq`, `evaluation_<name>_vs_iterations`, `<weight path>/histogram` and
`<weight path>/image`, the model graph under `keras`, profiles in
`log_dir/train/plugins/profile/<run>/` and the embedding projector's
`log_dir/projector_config.pbtxt` (see `tensorboard_summaries`).
"""

import logging
import os
import time
import warnings

import jax
import numpy as np

from kerax.backend import image_data_format
from kerax.callbacks import tensorboard_summaries as summaries
from kerax.callbacks.callback import Callback
from kerax.callbacks.reduce_lr_on_plateau import add_learning_rates
from kerax.layers import Embedding


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
        write_graph: write the model's graph (Functional and Sequential models, as Keras:
            TensorBoard's "conceptual graph" of the layers, from the model's JSON).
        write_images: with `histogram_freq`, also draw each weight as an image, as Keras
            (a kernel transposed to be wide, a bias as one row; needs `pillow`).
        write_steps_per_second: also log `steps_per_second` per epoch (and per logged
            batch with `update_freq`, as Keras' `batch_steps_per_second`).
        update_freq: `"epoch"`, `"batch"` or an integer: log `batch_<name>` scalars every
            that many batches. With `steps_per_execution > 1`, batch logs exist only at
            execution boundaries.
        profile_batch: the training batch to profile (counted from 1 over the whole
            `fit`), a `(start, stop)` pair or a `"start,stop"` string for a range; 0:
            none. The trace (`jax.profiler`) goes to `log_dir/train/plugins/profile/`,
            where TensorBoard's profile plugin (`pip install tensorboard-plugin-profile`)
            shows it. Every compiled execution is one named step ("train" with its step
            number), and each profiled batch a "Profiled batch N" annotation, as Keras.
            With `steps_per_execution=K` the executions holding the range are profiled.
            Keras 3 turns JAX profiling off below Python 3.12 after a segfault report
            (keras-team/keras#20450); kerax keeps it on: profiled `fit` calls ran in its tests
            (in a subprocess) on Python 3.11 with jax 0.10.2 on the CPU.
        embeddings_freq: every that many epochs, write each top-level `Embedding` layer's
            matrix for TensorBoard's projector: `log_dir/projector_config.pbtxt`, with
            `train/embeddings-<epoch>/<layer>.tsv` tensor files (read without a
            TensorFlow checkpoint; Keras writes a `.weights.h5` the projector cannot read).
        embeddings_metadata: a metadata file for every embedding layer, or a dict from
            `Embedding` layer names to files (paths relative to `log_dir`, as Keras).

    Raises:
        ValueError: for a `profile_batch` that is not a non-negative integer or an
            increasing pair, and for `embeddings_metadata` names that are not
            `Embedding` layers of the model.

    Example:
    >>> import tempfile
    >>> cb = TensorBoard(log_dir=tempfile.mkdtemp(), update_freq=2, profile_batch=(2, 3))
    >>> cb.profile_range
    (2, 3)
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
        self.profile_range = _profile_range(profile_batch)
        self._writers = {}
        self._global_train_batch = 0
        self._last_logged_batch = 0
        self._tracing = False
        self._profiled = False
        self._batch_trace = None

    def set_model(self, model):
        super().set_model(model)
        for writer in self._writers.values():
            writer.close()
        self._writers = {}
        if self.write_graph and type(model).__name__ in ("Functional", "Sequential"):
            try:
                graph = summaries.keras_model_summary(model)
            except Exception as e:  # noqa: BLE001 (as Keras: a graph never breaks `fit`)
                warnings.warn(f"Model failed to serialize as JSON. Ignoring... {e}",
                              stacklevel=2)
            else:
                self._writer("train")._get_file_writer().add_summary(graph, 0)
        if self.embeddings_freq:
            self._embeddings = self._embedding_layers()

    def _writer(self, name):
        if name not in self._writers:
            self._writers[name] = _summary_writer_class()(os.path.join(self.log_dir, name))
        return self._writers[name]

    def on_train_begin(self, logs=None):
        self._global_train_batch = 0
        self._last_logged_batch = 0
        self._epoch_base = 0
        self._profiled = False  # each `fit` profiles its range, as Keras

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_base = self._global_train_batch
        if self.write_steps_per_second:
            self._epoch_start = (time.time(), int(self.model.optimizer.iterations))

    # ------------------------------------------------------------------ profiling --
    def on_train_batch_begin(self, batch, logs=None):
        self._batch_start = (time.time(), self._epoch_base + batch)
        if self.profile_range is None or (self._profiled and not self._tracing):
            return
        first = self._epoch_base + batch + 1  # Keras counts the fit's batches from 1
        last = first + self._steps_per_execution() - 1
        start, stop = self.profile_range
        if not self._tracing and first <= stop and last >= start:
            self._tracing = _start_trace(os.path.join(self.log_dir, "train"))
        if self._tracing:
            self._batch_trace = jax.profiler.TraceAnnotation(f"Profiled batch {batch}")
            self._batch_trace.__enter__()

    def _steps_per_execution(self):
        k = getattr(getattr(self.model, "fit_run", None), "steps_per_execution", None)
        return k if isinstance(k, int) and k > 0 else 1

    def _end_batch_trace(self, logs=None):
        if self._batch_trace is not None:
            self._batch_trace.__exit__(None, None, None)
            self._batch_trace = None
        if self._tracing and self._global_train_batch >= self.profile_range[1]:
            jax.block_until_ready(logs)  # the last profiled execution ends inside the trace
            self._stop_trace()

    def _stop_trace(self):
        self._tracing, self._profiled = False, True
        try:
            jax.profiler.stop_trace()
        except Exception as e:  # noqa: BLE001 (as Keras: profiler errors are not fatal)
            logging.error("Failed to stop profiler: %s", e)

    # -------------------------------------------------------------------- scalars --
    def on_train_batch_end(self, batch, logs=None):
        self._global_train_batch = self._epoch_base + batch + 1
        self._end_batch_trace(logs)
        if self.update_freq == "epoch" or not isinstance(logs, dict):
            return
        if self._global_train_batch - self._last_logged_batch >= self.update_freq:
            writer = self._writer("train")
            values = {name: float(value) for name, value in logs.items()}  # waits for them
            if self.write_steps_per_second:  # this execution's steps per second, as Keras
                t0, first = self._batch_start
                values["steps_per_second"] = (self._global_train_batch - first) / max(
                    time.time() - t0, 1e-9)
            self._last_logged_batch = self._global_train_batch
            for name, value in values.items():
                writer.add_scalar(f"batch_{name}", value, self._global_train_batch)

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
        if self.embeddings_freq and epoch % self.embeddings_freq == 0:
            self._log_embeddings(epoch)
        for writer in self._writers.values():
            writer.flush()

    # -------------------------------------------------------------------- weights --
    def _log_weights(self, epoch):
        writer = self._writer("train")
        for layer in self.model.layers:
            for weight in layer.weights:
                name = getattr(weight, "path", None) or getattr(weight, "name", "weight")
                name = name.replace(":", "_")
                value = np.asarray(weight)
                writer.add_histogram(f"{name}/histogram", value, epoch)
                image = (summaries.weight_image(value, image_data_format())
                         if self.write_images else None)
                if image is not None:
                    writer._get_file_writer().add_summary(
                        summaries.weight_image_summary(f"{name}/image", image), epoch)

    # ----------------------------------------------------------------- embeddings --
    def _embedding_layers(self):
        """`{layer name: metadata path or None}` for the top-level `Embedding` layers."""
        metadata = self.embeddings_metadata
        layers = {l.name: None for l in self.model.layers if isinstance(l, Embedding)}
        if isinstance(metadata, (str, os.PathLike)):
            return dict.fromkeys(layers, os.fspath(metadata))
        unknown = sorted(set(metadata or {}) - set(layers))
        if unknown:
            raise ValueError(
                "Unrecognized `Embedding` layer names passed to "
                "`keras.callbacks.TensorBoard` `embeddings_metadata` argument: "
                f"{unknown}. The model's `Embedding` layers are {sorted(layers)}; pass a "
                "dict keyed by their names, or one file name for all of them.")
        return {name: (metadata or {}).get(name) for name in layers}

    def _log_embeddings(self, epoch):
        folder = os.path.join("train", f"embeddings-{epoch}")
        os.makedirs(os.path.join(self.log_dir, folder), exist_ok=True)
        entries = []
        for name, metadata_path in self._embeddings.items():
            matrix = np.asarray(self.model.get_layer(name).embeddings)
            tensor_path = os.path.join(folder, f"{name}.tsv")
            summaries.write_embedding_tsv(os.path.join(self.log_dir, tensor_path), matrix)
            entries.append({"tensor_name": name, "tensor_path": tensor_path,
                            "tensor_shape": matrix.shape, "metadata_path": metadata_path})
        path = os.path.join(self.log_dir, "projector_config.pbtxt")
        with open(path + ".tmp", "w") as f:
            f.write(summaries.projector_config(entries))
        os.replace(path + ".tmp", path)

    def on_train_end(self, logs=None):
        if self._tracing:
            self._end_batch_trace()
            if self._tracing:
                self._stop_trace()
        for writer in self._writers.values():
            writer.close()
        self._writers = {}



def _profile_range(profile_batch):
    """`(start, stop)` from Keras' `profile_batch` (None: no profiling)."""
    message = ("profile_batch must be a non-negative integer or 2-tuple of positive "
               "integers. A pair of positive integers signifies a range of batches to "
               f"profile. Found: {profile_batch}")
    value = profile_batch
    if isinstance(value, str):
        try:
            value = [int(v) for v in value.split(",")]
        except ValueError:
            raise ValueError(message) from None
        value = value[0] if len(value) == 1 else value
    if isinstance(value, (int, np.integer)):  # True: batch 1, as Keras
        start = stop = int(value)
    elif isinstance(value, (tuple, list)) and len(value) == 2 and all(
            isinstance(v, (int, np.integer)) for v in value):
        start, stop = (int(v) for v in value)
    else:
        raise ValueError(message)
    if start < 0 or stop < start:
        raise ValueError(message)
    return None if start == stop == 0 else (start, stop)


def _start_trace(logdir):
    """Starts `jax.profiler`'s trace into `logdir`; False (logged) where it cannot, as
    Keras (another trace running, say)."""
    try:
        jax.profiler.start_trace(logdir)
    except Exception as e:  # noqa: BLE001 (as Keras: profiler errors are not fatal)
        logging.error("Failed to start profiler: %s", e)
        return False
    return True


__all__ = ["TensorBoard"]
