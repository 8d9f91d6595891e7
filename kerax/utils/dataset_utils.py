"""Data helpers: `split_dataset`, `pack/unpack_x_y_sample_weight`, directory indexing.

Keras builds these on `tf.data`; kerax has no TensorFlow, so datasets are NumPy arrays,
tuples of arrays, or `PyDataset`s yielding NumPy batches — all of which `fit` accepts.
"""

import math
import os
import random

import numpy as np

from kerax.utils import io_utils
from kerax.utils.py_dataset import PyDataset


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    """Packs `x`, `y`, `sample_weight` into the tuple `fit` expects.

    A lone `x` that is not a tuple or list is returned as is; otherwise the result is
    `(x,)`, `(x, y)` or `(x, y, sample_weight)`.

    Example:
    >>> pack_x_y_sample_weight(1, 2)
    (1, 2)
    >>> pack_x_y_sample_weight([1, 2])
    ([1, 2],)
    """
    if y is None:
        return (x,) if isinstance(x, (tuple, list)) else x
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


def unpack_x_y_sample_weight(data):
    """Unpacks `x`, `(x,)`, `(x, y)` or `(x, y, sample_weight)` into a 3-tuple.

    Example:
    >>> unpack_x_y_sample_weight((1, 2))
    (1, 2, None)
    """
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return (data, None, None)
    if 1 <= len(data) <= 3:
        return tuple(data) + (None,) * (3 - len(data))
    raise ValueError(
        "Data must be `x`, `(x,)`, `(x, y)` or `(x, y, sample_weight)`; received a "
        f"tuple of {len(data)} elements."
    )


def _split_sizes(left_size, right_size, total):
    """Turns fractions or counts into two positive sample counts (Keras' rules)."""
    for name, size in (("left_size", left_size), ("right_size", right_size)):
        if size is not None and type(size) not in (int, float):
            raise TypeError(f"`{name}` must be an int, a float or None. Received: {name}={size!r}.")
        if (type(size) is int and not 0 < size < total) or (type(size) is float and not 0 < size < 1):
            raise ValueError(
                f"`{name}` must be a count in (0, {total}) or a fraction in (0, 1). "
                f"Received: {name}={size!r}."
            )
    if type(left_size) is float and type(right_size) is float and left_size + right_size > 1:
        raise ValueError(
            f"`left_size` + `right_size` must be at most 1. Received: {left_size} + {right_size}."
        )
    left = round(left_size * total) if type(left_size) is float else left_size
    right = round(right_size * total) if type(right_size) is float else right_size
    left = total - right if left is None else left
    right = total - left if right is None else right
    if left + right > total:
        raise ValueError(
            f"`left_size` + `right_size` ({left} + {right} samples) must be at most the "
            f"dataset's {total} samples."
        )
    if left == 0 or right == 0:
        raise ValueError(
            f"With {total} samples, left_size={left_size!r} and right_size={right_size!r} "
            f"leave the {'left' if left == 0 else 'right'} split empty. Adjust the sizes."
        )
    return int(left), int(right)


def split_dataset(dataset, left_size=None, right_size=None, shuffle=False, seed=None, preferred_backend=None):
    """Splits arrays into a left and a right part (e.g. train / test).

    Keras returns `tf.data.Dataset`s; kerax returns the input's own structure: an
    array gives two arrays, a tuple or list of arrays gives two tuples of arrays
    (pass them to `fit(*left)`). The left part takes the first `left_size` samples
    and the right part the last `right_size`.

    Args:
        dataset: a NumPy array, or a tuple or list of arrays of the same length.
        left_size: a fraction in (0, 1) or a number of samples; defaults to the
            complement of `right_size`.
        right_size: likewise; defaults to the complement of `left_size`.
        shuffle: whether to shuffle the samples first (the order Keras uses:
            Python's `random.Random(seed).shuffle`).
        seed: the shuffle's seed.
        preferred_backend: accepted for compatibility; ignored.

    Returns:
        A tuple `(left, right)`.

    Example:
    >>> x, y = np.arange(10).reshape(5, 2), np.arange(5)
    >>> (x_train, y_train), (x_test, y_test) = split_dataset((x, y), left_size=0.8)
    >>> x_train.shape, y_test
    ((4, 2), array([4]))
    """
    del preferred_backend
    if isinstance(dataset, np.ndarray):
        columns, single = [dataset], True
    elif isinstance(dataset, (tuple, list)) and dataset:
        columns, single = list(dataset), False
    else:
        raise TypeError(
            "`dataset` must be a NumPy array or a non-empty tuple/list of NumPy arrays. "
            f"Received: {type(dataset).__name__}."
        )
    for i, c in enumerate(columns):
        if not isinstance(c, np.ndarray):
            raise ValueError(f"`dataset` must hold NumPy arrays; element {i} is a {type(c).__name__}.")
        if len(c) != len(columns[0]):
            raise ValueError(
                f"All arrays in `dataset` must have the same length; element 0 has "
                f"{len(columns[0])} samples and element {i} has {len(c)}."
            )
    if left_size is None and right_size is None:
        raise ValueError("Pass `left_size` or `right_size` (or both); both are None.")
    total = len(columns[0])
    if total == 0:
        raise ValueError("`dataset` is empty: there is nothing to split.")
    order = list(range(total))
    if shuffle:
        random.Random(random.randint(0, int(1e6)) if seed is None else seed).shuffle(order)
    left, right = _split_sizes(left_size, right_size, total)
    parts = []
    for idx in (order[:left], order[total - right :]):
        cols = tuple(c[np.asarray(idx)] for c in columns)
        parts.append(cols[0] if single else cols)
    return tuple(parts)


class SampleBatches(PyDataset):
    """A `PyDataset` of batches of samples loaded one by one (`load(i)`), with labels.

    The dataset returned by `image_dataset_from_directory`,
    `text_dataset_from_directory` and `timeseries_dataset_from_array`. Batches follow
    the sample order given; with `shuffle=True`, `on_epoch_end` draws a new order
    from `seed`. With `batch_size=None` each item is a single sample.

    Example:
    >>> ds = SampleBatches(5, lambda i: np.full(2, i), labels=np.arange(5), batch_size=2)
    >>> len(ds), ds[2]
    (3, (array([[4, 4]]), array([4])))
    """

    def __init__(self, num_samples, load, labels=None, batch_size=32, shuffle=False, seed=None, stack=np.stack, **kwargs):
        super().__init__(**kwargs)
        self.num_samples, self.load, self.labels = num_samples, load, labels
        self.batch_size, self.shuffle, self.stack = batch_size, shuffle, stack
        self._order = np.arange(num_samples)
        self._rng = np.random.default_rng(seed)

    def __len__(self):
        if self.batch_size is None:
            return self.num_samples
        return math.ceil(self.num_samples / self.batch_size)

    def __getitem__(self, index):
        if not -len(self) <= index < len(self):
            raise IndexError(f"Batch index {index} is out of range for a dataset of {len(self)} batches.")
        index %= len(self)
        if self.batch_size is None:
            i = self._order[index]
            x = self.load(i)
            return x if self.labels is None else (x, self.labels[i])
        idx = self._order[index * self.batch_size : (index + 1) * self.batch_size]
        x = self.stack([self.load(i) for i in idx])
        return x if self.labels is None else (x, self.labels[idx])

    def on_epoch_end(self):
        if self.shuffle:
            self._rng.shuffle(self._order)


def encode_labels(labels, label_mode, num_classes):
    """Encodes integer labels as `int32` (`"int"`), `float32` `(N, 1)` (`"binary"`),
    or `float32` one-hot (`"categorical"`)."""
    labels = np.asarray(labels, dtype="int32")
    if label_mode == "binary":
        return labels.astype("float32")[:, None]
    if label_mode == "categorical":
        return np.eye(num_classes, dtype="float32")[labels]
    return labels


def check_validation_split_arg(validation_split, subset, shuffle, seed):
    """Checks `validation_split` / `subset` / `seed` together, as Keras does."""
    if validation_split and not 0 < validation_split < 1:
        raise ValueError(f"`validation_split` must be between 0 and 1. Received: {validation_split}.")
    if bool(validation_split) != bool(subset):
        raise ValueError(
            "`subset` and `validation_split` go together: set both or neither. "
            f"Received: validation_split={validation_split!r}, subset={subset!r}."
        )
    if subset not in ("training", "validation", "both", None):
        raise ValueError(f'`subset` must be "training", "validation" or "both". Received: {subset!r}.')
    if validation_split and shuffle and seed is None:
        raise ValueError(
            "With `validation_split` and `shuffle=True`, pass a `seed`, so that the "
            "training and validation subsets do not overlap."
        )


def get_training_or_validation_split(samples, labels, validation_split, subset):
    """Returns the training (first) or validation (last) part of `samples, labels`."""
    if not validation_split:
        return samples, labels
    n_val = int(validation_split * len(samples))
    if subset == "training":
        io_utils.print_msg(f"Using {len(samples) - n_val} files for training.")
        keep = slice(0, len(samples) - n_val)
    else:
        io_utils.print_msg(f"Using {n_val} files for validation.")
        keep = slice(len(samples) - n_val, len(samples))
    return samples[keep], (None if labels is None else labels[keep])


def _files_under(directory, follow_links, formats):
    found = []
    for root, _, files in sorted(os.walk(directory, followlinks=follow_links), key=lambda w: w[0]):
        found += [os.path.join(root, f) for f in sorted(files) if f.lower().endswith(formats)]
    return found


def index_directory(directory, labels, formats, class_names=None, shuffle=True, seed=None, follow_links=False, verbose=True):
    """Lists the files in `directory` with their labels, in Keras' order.

    With `labels="inferred"`, each subdirectory is a class (alphanumeric order unless
    `class_names` gives it). Files are sorted, then shuffled with
    `np.random.RandomState(seed)` when `shuffle=True`, exactly as Keras does, so the
    same seed gives the same files in the same order.

    Returns:
        `(file_paths, labels, class_names)`; `labels` is an `int32` array, or None.
    """
    if not os.path.isdir(directory):
        raise ValueError(f"`directory` must be an existing directory. Received: {directory!r}.")
    if labels == "inferred":
        subdirs = [d for d in sorted(os.listdir(directory)) if os.path.isdir(os.path.join(directory, d)) and not d.startswith(".")]
        if class_names is not None:
            if not set(class_names) <= set(subdirs):
                raise ValueError(
                    f"`class_names` must name subdirectories of {directory!r}: expected some "
                    f"of {subdirs}, received class_names={list(class_names)}."
                )
            subdirs = list(class_names)
    else:
        if class_names is not None:
            raise ValueError(
                "`class_names` can only be passed with labels='inferred'; with explicit or "
                "no labels, the class names are the sorted labels."
            )
        subdirs = [""]
    paths, inferred = [], []
    for i, sub in enumerate(subdirs):
        found = _files_under(os.path.join(directory, sub), follow_links, formats)
        paths += found
        inferred += [i] * len(found)
    if labels == "inferred":
        class_names, labels = subdirs, np.asarray(inferred, dtype="int32")
    elif labels is None:
        class_names = None
    else:
        if len(labels) != len(paths):
            raise ValueError(
                f"`labels` has {len(labels)} entries but {len(paths)} files were found in "
                f"{directory!r}; pass one label per file, in sorted file order."
            )
        class_names = [str(c) for c in sorted(set(labels))]
        labels = np.asarray(labels)
    if verbose:
        classes = "" if labels is None else f" belonging to {len(class_names)} classes"
        io_utils.print_msg(f"Found {len(paths)} files{classes}.")
    if shuffle:
        seed = np.random.randint(1e6) if seed is None else seed
        np.random.RandomState(seed).shuffle(paths)
        if labels is not None:
            np.random.RandomState(seed).shuffle(labels)
    return paths, labels, class_names
