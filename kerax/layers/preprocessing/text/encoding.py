"""Token ids to `one_hot`, `multi_hot`, `count` and `tf_idf` vectors, as Keras on TF does.

Keras' TensorFlow path counts with `bincount` along the last axis for inputs of rank 1
or 2 (so a rank-1 input is one sample), ids outside `[0, depth)` (the mask's sentinel)
are dropped, and `one_hot` first adds a last axis unless it is already 1. Ragged rows (a
list of id arrays, from `TextVectorization`'s split) are counted row by row.
"""

import numpy as np


def bincount_rows(ids, lengths, depth, output_mode, idf_weights=None):
    """Each row's counts of its ids in `[0, depth)`, encoded as `output_mode`: the rows
    are `ids` (flat) cut into `lengths`; an `(rows, depth)` array, int64 (0/1 when
    binary) or float32 (`tf_idf`: the counts times `idf_weights`)."""
    rows = len(lengths)
    row = np.repeat(np.arange(rows), lengths)
    keep = (ids >= 0) & (ids < depth)
    if not keep.all():
        row, ids = row[keep], ids[keep]
    cells = row * depth + ids  # (the output is filled flat: only touched pages are written)
    if output_mode in ("multi_hot", "one_hot"):
        out = np.zeros(rows * depth, np.int64)
        out[cells] = 1
        return out.reshape(rows, depth)
    if output_mode == "tf_idf":
        idf = np.asarray(idf_weights, np.float32)
        if idf.shape == (depth,) and np.isfinite(idf).all() and not np.signbit(idf).any():
            # 0 * idf is +0.0 here: only the counted cells need the product
            out = np.zeros(rows * depth, np.float32)
            cells, counts = np.unique(cells, return_counts=True)
            out[cells] = counts.astype(np.float32) * idf[cells % depth]
            return out.reshape(rows, depth)
    out = np.bincount(cells, minlength=rows * depth).astype(np.int64, copy=False)
    out = out.reshape(rows, depth)
    return out.astype(np.float32) * idf if output_mode == "tf_idf" else out


def _one_hot(ids, depth):
    keep = (ids >= 0) & (ids < depth)
    out = np.zeros(ids.shape + (depth,), np.int64)
    idx = np.nonzero(keep)
    out[idx + (ids[keep],)] = 1
    return out


def encode_ids(ids, output_mode, depth, idf_weights=None):
    """Encodes ids (an int array; ragged id rows, as a list of rows or as a pair `(flat
    ids, row lengths)`) as Keras' `output_mode`.

    Returns a NumPy int64 array (`one_hot`, `multi_hot`, `count`) or float32 (`tf_idf`).

    Example:
    >>> encode_ids(np.array([[1, 1, 3]]), "count", 4).tolist()
    [[0, 2, 0, 1]]
    >>> encode_ids(np.array([0, 2]), "multi_hot", 3).tolist()
    [1, 0, 1]
    >>> encode_ids((np.array([1, 2, 2]), [1, 2]), "count", 3).tolist()
    [[0, 1, 0], [0, 0, 2]]
    """
    if isinstance(ids, list):
        lengths = [len(r) for r in ids]
        flat = np.concatenate([np.asarray(r, np.int64) for r in ids]) if sum(lengths) \
            else np.zeros(0, np.int64)
        return bincount_rows(flat, lengths, depth, output_mode, idf_weights)
    if isinstance(ids, tuple):  # ragged rows as (flat ids, row lengths)
        return bincount_rows(np.asarray(ids[0], np.int64), ids[1], depth, output_mode,
                             idf_weights)
    ids = np.asarray(ids, np.int64)
    if ids.ndim == 0:
        ids = ids[None]
    if output_mode == "one_hot" and ids.shape[-1] != 1:
        ids = ids[..., None]
    if ids.ndim <= 2:  # TensorFlow's bincount path
        rows = ids.reshape(-1, ids.shape[-1]) if ids.ndim == 2 else ids[None]
        out = bincount_rows(rows.reshape(-1), np.full(len(rows), rows.shape[1]), depth,
                            output_mode, idf_weights)
        return out if ids.ndim == 2 else out[0]
    out = _encode_rank3(ids, output_mode, depth)
    if output_mode == "tf_idf":
        return out.astype(np.float32) * np.asarray(idf_weights, np.float32)
    return out


def _encode_rank3(ids, output_mode, depth):
    if output_mode == "one_hot":
        return _one_hot(ids[..., 0] if ids.shape[-1] == 1 else ids, depth)
    hot = _one_hot(ids, depth)
    if output_mode == "multi_hot":
        return hot.max(axis=-2)
    return hot.sum(axis=1)  # Keras' `count` fallback sums over axis 1 for rank > 2
