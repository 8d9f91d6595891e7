"""Batches that arrive one at a time: PyDataset, generators, tf.data, torch, grain.

Each execution takes up to K batches from the source, pads every batch to one batch size
(masking the padded rows) and stacks them, so all executions share one shape; a short
final execution is filled with empty steps, which the compiled step skips. A background
thread assembles and transfers the next execution's batches while the current one runs.
"""

import queue
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor

import jax
import numpy as np

from kerax.trainer.data_adapters import array_data_adapter as ada


def is_stream(x):
    """Whether `x` is a batch source rather than arrays."""
    if x is None or isinstance(x, (np.ndarray, jax.Array, list, tuple, dict)):
        return False
    if hasattr(x, "shape") and hasattr(x, "dtype"):
        return False
    from kerax.utils.py_dataset import PyDataset

    return isinstance(x, PyDataset) or hasattr(x, "__iter__") or hasattr(x, "__next__")


def _to_numpy(a):
    if a is None:
        return None
    if hasattr(a, "numpy") and not isinstance(a, (np.ndarray, jax.Array)):
        a = a.numpy()  # torch tensors, tf tensors
    return a if isinstance(a, jax.Array) else np.asarray(a)


def unpack(batch):
    """`x`, `(x,)`, `(x, y)` or `(x, y, sample_weight)` -> `(x, y, sample_weight)`."""
    if isinstance(batch, tuple):
        if len(batch) == 1:
            batch = (batch[0], None, None)
        elif len(batch) == 2:
            batch = (batch[0], batch[1], None)
        elif len(batch) != 3:
            raise ValueError(
                "A batch must be `x`, `(x,)`, `(x, y)` or `(x, y, sample_weight)`; received a "
                f"tuple of {len(batch)} elements."
            )
    else:
        batch = (batch, None, None)
    return jax.tree_util.tree_map(_to_numpy, batch)


class StreamDataAdapter:
    """Iterates a batch source epoch by epoch, in executions of `k` padded batches.

    Args:
        source: a `kerax.utils.PyDataset`, a generator or iterator, a re-iterable
            (tf.data dataset, torch DataLoader, grain loader, list of batches, ...).
        steps: steps per epoch; None means "until the source is exhausted".
    """

    def __init__(self, source, steps=None):
        from kerax.utils.py_dataset import PyDataset

        self.source = source
        self.is_py_dataset = isinstance(source, PyDataset)
        self.user_steps = steps
        self._iterator = None
        self.batch_size = None
        self._pool = None
        if self.is_py_dataset:
            workers = max(1, int(getattr(source, "workers", 1) or 1))
            if workers > 1:
                self._pool = ThreadPoolExecutor(workers)
        self.steps_per_epoch = steps if steps is not None else self._known_length()
        self.epoch = 0
        self.position = 0  # batches taken in the current pass (for resume)

    def _known_length(self):
        src = self.source
        if self.is_py_dataset:
            return int(src.num_batches if getattr(src, "num_batches", None) is not None
                       else len(src))
        if hasattr(src, "cardinality"):  # tf.data
            try:
                n = int(src.cardinality())
                return n if n >= 0 else None
            except Exception:
                return None
        if hasattr(src, "__len__") and hasattr(src, "__iter__") and not hasattr(src, "__next__"):
            try:
                return len(src)
            except TypeError:
                return None
        return None

    # ------------------------------------------------------------------ iteration --
    def _fresh_iterator(self):
        src = self.source
        if self.is_py_dataset:
            return self._py_dataset_iter()
        if hasattr(src, "as_numpy_iterator"):
            return iter(src.as_numpy_iterator())
        if hasattr(src, "__next__"):
            return src  # a generator: single use
        return iter(src)

    def _py_dataset_iter(self):
        src = self.source
        n = self._known_length()
        if self._pool is None:
            for i in range(n):
                self.position = i + 1
                yield src[i]
            return
        depth = max(1, int(getattr(src, "max_queue_size", 10) or 10))
        futures = []
        for i in range(n):
            futures.append(self._pool.submit(src.__getitem__, i))
            if len(futures) >= depth:
                self.position += 1
                yield futures.pop(0).result()
        for f in futures:
            self.position += 1
            yield f.result()

    def on_epoch_begin(self):
        if self.is_py_dataset and hasattr(self.source, "on_epoch_begin"):
            self.source.on_epoch_begin()

    def on_epoch_end(self):
        self.epoch += 1
        if self.is_py_dataset and hasattr(self.source, "on_epoch_end"):
            self.source.on_epoch_end()

    def epoch_batches(self):
        """Yields this epoch's raw batches `(x, y, sample_weight)`."""
        taken = 0
        steps = self.user_steps
        while steps is None or taken < steps:
            if self._iterator is None:
                self._iterator = self._fresh_iterator()
                self.position = 0
            try:
                batch = next(self._iterator)
            except StopIteration:
                self._iterator = None
                if steps is None:
                    return
                if taken == 0 or hasattr(self.source, "__next__"):
                    warnings.warn(
                        "Your input ran out of data; interrupting training. Make sure that "
                        "your dataset or generator can generate at least `steps_per_epoch * "
                        "epochs` batches.", stacklevel=3)
                    self.exhausted = True
                    return
                continue
            taken += 1
            yield unpack(batch)
        if steps is None:
            self._iterator = None

    exhausted = False

    # -------------------------------------------------------------- executions --
    def _pad(self, batch, size):
        n = ada.num_samples(("x", batch[0]), ("y", batch[1]), ("sample_weight", batch[2]))
        pad = size - n

        def fix(a):
            if pad == 0:
                return np.asarray(a)
            return np.concatenate([np.asarray(a), np.zeros((pad,) + a.shape[1:], a.dtype)])

        mask = np.concatenate([np.ones(n, bool), np.zeros(pad, bool)])
        return jax.tree_util.tree_map(fix, batch), mask

    def executions(self, k, first_batch_hook=None):
        """Yields `(batches, mask, real_steps)` stacked to `k` steps, prefetched."""
        out = queue.Queue(maxsize=2)
        stop = threading.Event()

        def produce():
            try:
                chunk = []
                for batch in self.epoch_batches():
                    if stop.is_set():
                        return
                    chunk.append(batch)
                    if len(chunk) == k:
                        out.put(self._stack(chunk, k))
                        chunk = []
                if chunk:
                    out.put(self._stack(chunk, k))
                out.put(None)
            except BaseException as e:  # surface errors in the consumer
                out.put(e)

        worker = threading.Thread(target=produce, daemon=True)
        worker.start()
        try:
            while True:
                item = out.get()
                if item is None:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stop.set()

    def _stack(self, chunk, k):
        sizes = [ada.num_samples(("x", b[0]), ("y", b[1]), ("sample_weight", b[2]))
                 for b in chunk]
        self.batch_size = max([self.batch_size or 0] + sizes)
        padded = [self._pad(b, self.batch_size) for b in chunk]
        empty = k - len(chunk)
        if empty:
            blank = jax.tree_util.tree_map(np.zeros_like, padded[0][0])
            padded += [(blank, np.zeros(self.batch_size, bool))] * empty
        batches = jax.tree_util.tree_map(lambda *a: np.stack(a), *[p[0] for p in padded])
        mask = np.stack([p[1] for p in padded])
        return jax.device_put(batches), jax.device_put(mask), len(chunk)

    def peek(self):
        """The first batch, to build the model and check shapes (it is not consumed)."""
        if getattr(self, "_peeked", None) is None:
            self._peeked = self._peek()
        return self._peeked

    def _peek(self):
        if self.is_py_dataset:
            return unpack(self.source[0])
        if hasattr(self.source, "__next__"):
            first = next(self.source)
            import itertools

            self._iterator = itertools.chain([first], self.source)
            return unpack(first)
        it = self._fresh_iterator()
        return unpack(next(iter(it)))

    def close(self):
        if self._pool is not None:
            self._pool.shutdown(wait=False)
