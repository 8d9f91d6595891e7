"""Token ids to `one_hot`, `multi_hot`, `count` and `tf_idf` vectors, as Keras on TF does.

Keras' TensorFlow path counts with `bincount` along the last axis for inputs of rank 1
or 2 (so a rank-1 input is one sample), ids outside `[0, depth)` (the mask's sentinel)
are dropped, and `one_hot` first adds a last axis unless it is already 1. Ragged rows (a
list of id arrays, from `TextVectorization`'s split) are counted row by row.
"""

import numpy as np


def _bincount_rows(rows, depth, binary):
    out = np.zeros((len(rows), depth), np.int64)
    lengths = [len(r) for r in rows]
    if sum(lengths):
        ids = np.concatenate([np.asarray(r, np.int64) for r in rows])
        row = np.repeat(np.arange(len(rows)), lengths)
        keep = (ids >= 0) & (ids < depth)
        np.add.at(out, (row[keep], ids[keep]), 1)
    return np.minimum(out, 1) if binary else out


def _one_hot(ids, depth):
    keep = (ids >= 0) & (ids < depth)
    out = np.zeros(ids.shape + (depth,), np.int64)
    idx = np.nonzero(keep)
    out[idx + (ids[keep],)] = 1
    return out


def encode_ids(ids, output_mode, depth, idf_weights=None):
    """Encodes ids (an int array, or a list of ragged id rows) as Keras' `output_mode`.

    Returns a NumPy int64 array (`one_hot`, `multi_hot`, `count`) or float32 (`tf_idf`).

    Example:
    >>> encode_ids(np.array([[1, 1, 3]]), "count", 4).tolist()
    [[0, 2, 0, 1]]
    >>> encode_ids(np.array([0, 2]), "multi_hot", 3).tolist()
    [1, 0, 1]
    """
    if isinstance(ids, list):
        out = _bincount_rows(ids, depth, output_mode in ("multi_hot", "one_hot"))
    else:
        out = _encode_dense(np.asarray(ids, np.int64), output_mode, depth)
    if output_mode == "tf_idf":
        return out.astype(np.float32) * np.asarray(idf_weights, np.float32)
    return out


def _encode_dense(ids, output_mode, depth):
    if ids.ndim == 0:
        ids = ids[None]
    if output_mode == "one_hot" and ids.shape[-1] != 1:
        ids = ids[..., None]
    binary = output_mode in ("multi_hot", "one_hot")
    if ids.ndim <= 2:  # TensorFlow's bincount path
        rows = ids.reshape(-1, ids.shape[-1]) if ids.ndim == 2 else ids[None]
        out = _bincount_rows(list(rows), depth, binary)
        return out if ids.ndim == 2 else out[0]
    if output_mode == "one_hot":
        return _one_hot(ids[..., 0] if ids.shape[-1] == 1 else ids, depth)
    hot = _one_hot(ids, depth)
    if output_mode == "multi_hot":
        return hot.max(axis=-2)
    return hot.sum(axis=1)  # Keras' `count` fallback sums over axis 1 for rank > 2
