"""`PyDataset`: a dataset written in Python, one batch per index (Keras 3's API)."""

import itertools
import warnings


class PyDataset:
    """Base class of datasets written in Python: `__getitem__` returns whole batches.

    Subclasses implement `__len__` (the number of batches) and `__getitem__(index)`
    (batch `index`, e.g. `(x, y)` or `(x, y, sample_weight)` as NumPy arrays), and may
    implement `on_epoch_begin` / `on_epoch_end` to change the data between epochs.
    `workers`, `use_multiprocessing` and `max_queue_size` tell `fit()` how to read the
    batches in parallel; iterating over the dataset yourself reads them in order, in
    this thread. `fit()` reads each batch once per epoch, which a generator cannot
    guarantee.

    The batch index is `fit()`'s data position: a `fit()` interrupted and resumed with
    `kerax.callbacks.BackupAndRestore(save_freq=N)` continues at the next index of the
    same epoch, exactly as the uninterrupted run (provided `__getitem__` returns the same
    batch for the same index). A Python generator cannot be rewound, so a resume in the
    middle of an epoch continues with the generator's next batches and warns.

    Args:
        workers: how many threads (or processes) read batches in parallel.
        use_multiprocessing: use processes instead of threads (the dataset must then
            be picklable).
        max_queue_size: how many batches to read ahead.

    Example:
    >>> import math
    >>> import numpy as np
    >>> class Batches(PyDataset):
    ...     def __init__(self, x, y, batch_size, **kwargs):
    ...         super().__init__(**kwargs)
    ...         self.x, self.y, self.batch_size = x, y, batch_size
    ...     def __len__(self):
    ...         return math.ceil(len(self.x) / self.batch_size)
    ...     def __getitem__(self, index):
    ...         s = slice(index * self.batch_size, (index + 1) * self.batch_size)
    ...         return self.x[s], self.y[s]
    >>> ds = Batches(np.arange(5.0), np.arange(5), batch_size=2, workers=2)
    >>> ds.num_batches, [len(x) for x, _ in ds]
    (3, [2, 2, 1])
    """

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        self._workers = workers
        self._use_multiprocessing = use_multiprocessing
        self._max_queue_size = max_queue_size

    def _setting(self, name, default):
        if not hasattr(self, name):
            warnings.warn(
                f"{type(self).__name__}.__init__ should call `super().__init__(**kwargs)`; "
                "`**kwargs` can include `workers`, `use_multiprocessing` and "
                "`max_queue_size`. Using the defaults.",
                stacklevel=3,
            )
            setattr(self, name, default)
        return getattr(self, name)

    @property
    def workers(self):
        return self._setting("_workers", 1)

    @workers.setter
    def workers(self, value):
        self._workers = value

    @property
    def use_multiprocessing(self):
        return self._setting("_use_multiprocessing", False)

    @use_multiprocessing.setter
    def use_multiprocessing(self, value):
        self._use_multiprocessing = value

    @property
    def max_queue_size(self):
        return self._setting("_max_queue_size", 10)

    @max_queue_size.setter
    def max_queue_size(self, value):
        self._max_queue_size = value

    def __getitem__(self, index):
        """Returns batch number `index`."""
        raise NotImplementedError(f"{type(self).__name__} must implement `__getitem__(self, index)`.")

    @property
    def num_batches(self):
        """The number of batches per epoch, or `None` for an endless dataset."""
        if hasattr(self, "__len__"):
            return len(self)
        raise NotImplementedError(
            f"{type(self).__name__} must implement `__len__` (or the `num_batches` "
            "property, returning None for an endless dataset)."
        )

    def __iter__(self):
        try:
            n = self.num_batches
        except NotImplementedError:
            n = None
        for index in itertools.count() if n is None else range(n):
            yield self[index]

    def on_epoch_begin(self):
        """Called at the start of every epoch."""

    def on_epoch_end(self):
        """Called at the end of every epoch."""


Sequence = PyDataset
