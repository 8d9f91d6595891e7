"""CIFAR-10: 32x32 colour images in 10 classes."""

import os

import numpy as np

from kerax.datasets.cifar import load_batch, to_data_format
from kerax.utils.file_utils import get_file

ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
FILE_HASH = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"


def load_data():
    """Loads CIFAR-10: 50,000 training and 10,000 test images.

    Labels: 0 airplane, 1 automobile, 2 bird, 3 cat, 4 deer, 5 dog, 6 frog,
    7 horse, 8 ship, 9 truck. The batch files are pickles; they are read with a
    restricted unpickler that only rebuilds arrays (see `kerax.datasets.cifar`).

    Returns:
        `(x_train, y_train), (x_test, y_test)`: `uint8` arrays of shapes
        `(50000, 32, 32, 3)`, `(50000, 1)`, `(10000, 32, 32, 3)`, `(10000, 1)`
        (images are `(N, 3, 32, 32)` when `image_data_format()` is
        `"channels_first"`).

    Example (downloads 170 MB):
    >>> (x_train, y_train), _ = load_data()  # doctest: +SKIP
    >>> x_train.shape, y_train.shape  # doctest: +SKIP
    ((50000, 32, 32, 3), (50000, 1))
    """
    path = get_file(fname="cifar-10-batches-py-target", origin=ORIGIN, extract=True, file_hash=FILE_HASH)
    path = os.path.join(path, "cifar-10-batches-py")
    parts = [load_batch(os.path.join(path, f"data_batch_{i}")) for i in range(1, 6)]
    x_train = np.concatenate([x for x, _ in parts]).astype("uint8")
    y_train = np.concatenate([np.asarray(y) for _, y in parts]).astype("uint8")
    x_test, y_test = load_batch(os.path.join(path, "test_batch"))
    y_train = y_train.reshape(-1, 1)
    y_test = np.asarray(y_test).reshape(-1, 1).astype("uint8")
    return (to_data_format(x_train), y_train), (to_data_format(x_test).astype("uint8"), y_test)
