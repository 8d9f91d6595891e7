"""Reuters newswires labelled over 46 topics, as sequences of word indices."""

import json

import numpy as np

from kerax.datasets.imdb import drop_long, limit_vocabulary, shift_indices
from kerax.datasets.npz_utils import load_npz
from kerax.utils.file_utils import get_file

ORIGIN_FOLDER = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
FILE_HASH = "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916"
WORD_INDEX_HASH = "4d44cc38712099c9e383dc6e5f11a921"

LABEL_NAMES = (
    "cocoa", "grain", "veg-oil", "earn", "acq", "wheat", "copper", "housing",
    "money-supply", "coffee", "sugar", "trade", "reserves", "ship", "cotton",
    "carcass", "crude", "nat-gas", "cpi", "money-fx", "interest", "gnp",
    "meal-feed", "alum", "oilseed", "gold", "tin", "strategic-metal", "livestock",
    "retail", "ipi", "iron-steel", "rubber", "heat", "jobs", "lei", "bop", "zinc",
    "orange", "pet-chem", "dlr", "gas", "silver", "wpi", "hog", "lead",
)  # fmt: skip


def load_data(
    path="reuters.npz",
    num_words=None,
    skip_top=0,
    maxlen=None,
    test_split=0.2,
    seed=113,
    start_char=1,
    oov_char=2,
    index_from=3,
):
    """Loads the Reuters newswire dataset: 11,228 newswires over 46 topics.

    Arguments are those of `kerax.datasets.imdb.load_data`, plus `test_split`, the
    fraction of the (shuffled) newswires kept for the test set.

    Returns:
        `(x_train, y_train), (x_test, y_test)`: `x_*` are object arrays of lists of
        ints, `y_*` integer topic labels (names: `get_label_names()`).

    Example (downloads 2 MB):
    >>> (x_train, y_train), _ = load_data(num_words=1000)  # doctest: +SKIP
    >>> len(x_train)  # doctest: +SKIP
    8982
    """
    path = get_file(path, origin=f"{ORIGIN_FOLDER}reuters.npz", file_hash=FILE_HASH)
    f = load_npz(path)
    xs, labels = f["x"], f["y"]
    order = np.arange(len(xs))
    np.random.RandomState(seed).shuffle(order)
    xs, labels = xs[order], labels[order]
    if start_char is not None or index_from:
        xs = shift_indices(xs, start_char, index_from)
    if maxlen:
        xs, labels = drop_long(maxlen, xs, labels)
    xs = limit_vocabulary(xs, num_words, skip_top, oov_char)
    n = int(len(xs) * (1 - test_split))
    x_train, x_test = np.array(xs[:n], dtype="object"), np.array(xs[n:], dtype="object")
    return (x_train, np.array(labels[:n])), (x_test, np.array(labels[n:]))


def get_word_index(path="reuters_word_index.json"):
    """Returns the dict mapping each word to its index in the Reuters dataset.

    Indices in `load_data`'s sequences are these plus `index_from` (3 by default).

    Example (downloads 0.5 MB):
    >>> get_word_index()["the"]  # doctest: +SKIP
    1
    """
    path = get_file(path, origin=f"{ORIGIN_FOLDER}reuters_word_index.json", file_hash=WORD_INDEX_HASH)
    with open(path) as f:
        return json.load(f)


def get_label_names():
    """Returns the 46 topic names, in label order.

    Example:
    >>> get_label_names()[:3]
    ('cocoa', 'grain', 'veg-oil')
    """
    return LABEL_NAMES
