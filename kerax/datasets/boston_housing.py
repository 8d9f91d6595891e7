"""Boston housing prices (regression; 13 features)."""

import numpy as np

from kerax.datasets.housing import check_test_split, shuffle_split
from kerax.utils.file_utils import get_file

ORIGIN_FOLDER = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
FILE_HASH = "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5"


def load_data(path="boston_housing.npz", test_split=0.2, seed=113):
    """Loads the Boston Housing dataset (506 samples of 13 attributes).

    **Warning:** this dataset has an ethical problem (its "B" variable assumes that
    racial self-segregation affects house prices); prefer `california_housing`
    except to illustrate such issues.

    Args:
        path: the file name to cache the data under.
        test_split: fraction of the samples kept for the test set, in [0, 1).
        seed: seed of the shuffle applied before splitting.

    Returns:
        `(x_train, y_train), (x_test, y_test)`: `x_*` of shape `(N, 13)`, `y_*` of
        shape `(N,)` (median prices in k$).

    Example (downloads 57 kB):
    >>> (x_train, y_train), _ = load_data()  # doctest: +SKIP
    >>> x_train.shape  # doctest: +SKIP
    (404, 13)
    """
    check_test_split(test_split)
    path = get_file(path, origin=f"{ORIGIN_FOLDER}boston_housing.npz", file_hash=FILE_HASH)
    with np.load(path, allow_pickle=False) as f:
        x, y = f["x"], f["y"]
    return shuffle_split(x, y, test_split, seed)
