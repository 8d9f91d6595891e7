"""IMDB movie reviews, labelled by sentiment, as sequences of word indices."""

import json
import warnings

import numpy as np

from kerax.datasets.npz_utils import load_npz
from kerax.utils.file_utils import get_file

ORIGIN_FOLDER = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
FILE_HASH = "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"
WORD_INDEX_HASH = "bfafd718b763782e994055a2d397834f"


def shift_indices(seqs, start_char, index_from):
    """Adds `index_from` to every word index and prepends `start_char` (if set)."""
    head = [] if start_char is None else [start_char]
    return [head + [w + index_from for w in x] for x in seqs]


def drop_long(maxlen, seqs, labels):
    """Keeps the sequences shorter than `maxlen` (strictly), with their labels."""
    kept = [(x, y) for x, y in zip(seqs, labels) if len(x) < maxlen]
    return [x for x, _ in kept], [y for _, y in kept]


def limit_vocabulary(seqs, num_words, skip_top, oov_char):
    """Replaces (or drops, if `oov_char` is None) words outside `[skip_top, num_words)`."""
    if not num_words:
        num_words = max(max(x) for x in seqs)
    if oov_char is not None:
        return [[w if skip_top <= w < num_words else oov_char for w in x] for x in seqs]
    return [[w for w in x if skip_top <= w < num_words] for x in seqs]


def load_data(
    path="imdb.npz",
    num_words=None,
    skip_top=0,
    maxlen=None,
    seed=113,
    start_char=1,
    oov_char=2,
    index_from=3,
    **kwargs,
):
    """Loads the IMDB dataset: 25,000 training and 25,000 test reviews.

    Each review is a list of word indices; index `i` is the i-th most frequent word
    (shifted by `index_from`); 0 is reserved for padding. The ragged arrays are read
    with a restricted unpickler that only rebuilds numpy arrays.

    Args:
        path: the file name to cache the data under.
        num_words: keep only the `num_words` most frequent words; the others become
            `oov_char`. `None` keeps all.
        skip_top: also replace the `skip_top` most frequent words by `oov_char`.
        maxlen: drop the sequences of `maxlen` words or more. `None` keeps all.
        seed: seed of the shuffle applied to each split.
        start_char: index marking the start of every sequence (`None`: no marker).
        oov_char: index replacing cut-out words (`None`: cut-out words are removed).
        index_from: added to every word index.

    Returns:
        `(x_train, y_train), (x_test, y_test)`: `x_*` are object arrays of lists of
        ints, `y_*` integer arrays of 0/1 labels.

    Example (downloads 17 MB):
    >>> (x_train, y_train), _ = load_data(num_words=10000)  # doctest: +SKIP
    >>> len(x_train), max(max(x) for x in x_train) < 10000  # doctest: +SKIP
    (25000, True)
    """
    if kwargs:  # Keras 3 accepts and ignores extra keyword arguments; so do we, loudly.
        warnings.warn(f"imdb.load_data() ignores the unknown arguments {sorted(kwargs)}.", stacklevel=2)
    path = get_file(fname=path, origin=f"{ORIGIN_FOLDER}imdb.npz", file_hash=FILE_HASH)
    f = load_npz(path)
    rng = np.random.RandomState(seed)
    splits = []
    for x, y in ((f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])):
        order = np.arange(len(x))
        rng.shuffle(order)
        splits.append((shift_indices(x[order], start_char, index_from), y[order]))
    (x_train, y_train), (x_test, y_test) = splits
    if maxlen:
        x_train, y_train = drop_long(maxlen, x_train, y_train)
        x_test, y_test = drop_long(maxlen, x_test, y_test)
        if not x_train or not x_test:
            raise ValueError(
                f"No sequence is shorter than maxlen={maxlen}, so both splits would be "
                "empty. Increase `maxlen`."
            )
    xs = limit_vocabulary(x_train + x_test, num_words, skip_top, oov_char)
    labels = np.concatenate([y_train, y_test])
    n = len(x_train)
    x_train, x_test = np.array(xs[:n], dtype="object"), np.array(xs[n:], dtype="object")
    return (x_train, labels[:n]), (x_test, labels[n:])


def get_word_index(path="imdb_word_index.json"):
    """Returns the dict mapping each word to its index in the IMDB dataset.

    Indices in `load_data`'s sequences are these plus `index_from` (3 by default).

    Example (downloads 1.6 MB):
    >>> word_index = get_word_index()  # doctest: +SKIP
    >>> word_index["the"]  # doctest: +SKIP
    1
    """
    path = get_file(fname=path, origin=f"{ORIGIN_FOLDER}imdb_word_index.json", file_hash=WORD_INDEX_HASH)
    with open(path) as f:
        return json.load(f)
