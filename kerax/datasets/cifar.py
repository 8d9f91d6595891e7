"""Reading CIFAR's pickled batch files (shared by CIFAR-10 and CIFAR-100)."""

import numpy as np

from kerax.backend.config import image_data_format
from kerax.datasets.npz_utils import RestrictedUnpickler


def load_batch(fpath, label_key="labels"):
    """Reads one CIFAR batch file into `(data, labels)`, data of shape (N, 3, 32, 32).

    CIFAR's files are Python pickles, and unpickling can run code; this reader uses
    `RestrictedUnpickler`, which only rebuilds numpy arrays, bytes, numbers, dicts and
    lists, and refuses any other class.

    Example:
    >>> import os, pickle, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "batch")
    >>> with open(path, "wb") as f:
    ...     pickle.dump({b"data": np.zeros((2, 3072), np.uint8), b"labels": [3, 1]}, f)
    >>> data, labels = load_batch(path)
    >>> data.shape, labels
    ((2, 3, 32, 32), [3, 1])
    """
    with open(fpath, "rb") as f:
        raw = RestrictedUnpickler(f, encoding="bytes").load()
    d = {k.decode("utf8") if isinstance(k, bytes) else k: v for k, v in raw.items()}
    data = d["data"]
    return data.reshape(data.shape[0], 3, 32, 32), d[label_key]


def to_data_format(x):
    """Transposes (N, 3, 32, 32) images to channels-last unless configured otherwise."""
    return x.transpose(0, 2, 3, 1) if image_data_format() == "channels_last" else x
