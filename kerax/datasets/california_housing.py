"""California housing prices (regression; 8 features, 1990 US census)."""

import numpy as np

from kerax.datasets.housing import check_test_split, shuffle_split
from kerax.utils.file_utils import get_file

ORIGIN_FOLDER = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
FILE_HASH = "1a2e3a52e0398de6463aebe6f4a8da34fb21fbb6b934cf88c3425e766f2a1a6f"


def load_data(version="large", path="california_housing.npz", test_split=0.2, seed=113):
    """Loads the California Housing dataset.

    Features: MedInc, HouseAge, AveRooms, AveBedrms, Population, AveOccup, Latitude,
    Longitude; the target is the median house value in dollars.

    Args:
        version: `"large"` (20,640 samples) or `"small"` (the first 600, a stand-in
            for `boston_housing`).
        path: the file name to cache the data under.
        test_split: fraction of the samples kept for the test set, in [0, 1).
        seed: seed of the shuffle applied before splitting.

    Returns:
        `(x_train, y_train), (x_test, y_test)`: `x_*` of shape `(N, 8)`, `y_*` of
        shape `(N,)`.

    Example (downloads 0.7 MB):
    >>> (x_train, y_train), _ = load_data(version="small")  # doctest: +SKIP
    >>> x_train.shape  # doctest: +SKIP
    (480, 8)
    """
    check_test_split(test_split)
    if version not in ("small", "large"):
        raise ValueError(f'`version` must be "small" or "large". Received: version={version!r}.')
    path = get_file(path, origin=f"{ORIGIN_FOLDER}california_housing.npz", file_hash=FILE_HASH)
    with np.load(path, allow_pickle=False) as f:
        x, y = f["x"], f["y"]
    if version == "small":
        x, y = x[:600], y[:600]
    return shuffle_split(x, y, test_split, seed)
