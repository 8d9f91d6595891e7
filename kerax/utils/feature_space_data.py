"""The data `FeatureSpace` reads: columns for a call, batches for `adapt`.

Keras converts each column to a TensorFlow tensor; here a column becomes a NumPy array
(Python floats float32, ints int64, strings an object array of str) of shape
`(batch, 1)`, as Keras' `(batch,) -> (batch, 1)` expansion; a scalar column makes a
batch of one that the output drops again ("rebatched").
"""

import numpy as np

ADAPT_BATCH_SIZE = 32  # Keras batches an unbatched dataset by 32 before `adapt`


def as_column(value):
    """One column as a NumPy array (floats float32, as TensorFlow converts them).

    Example:
    >>> as_column([0.5, 1.0]).dtype, as_column(["a"]).dtype
    (dtype('float32'), dtype('O'))
    """
    arr = np.asarray(value)
    if arr.dtype.kind in "US":
        arr = arr.astype(object)
    elif arr.dtype == np.float64:
        arr = arr.astype(np.float32)
    elif arr.dtype.kind == "b":
        arr = arr.astype(np.int64)
    return arr


def as_columns(data):
    """`({name: (batch, ...) array}, rebatched)` for a dict of raw columns.

    Example:
    >>> cols, rebatched = as_columns({"a": 1.0})
    >>> cols["a"].shape, rebatched
    ((1, 1), True)
    """
    out, rebatched = {}, False
    for name, value in data.items():
        arr = as_column(value)
        if arr.ndim == 0:
            arr, rebatched = arr.reshape(1, 1), True
        elif arr.ndim == 1:
            arr = arr[:, None]
        out[name] = arr
    return out, rebatched


def _is_pandas(data):
    return type(data).__name__ == "DataFrame" and hasattr(data, "columns")


def _dict_batches(columns, names):
    """Unbatched columns (one value per example) in batches of 32, each `(b, 1)`."""
    arrays = {n: as_column(columns[n]) for n in names}
    n = len(next(iter(arrays.values()))) if arrays else 0
    return [{k: _expand(v[i:i + ADAPT_BATCH_SIZE]) for k, v in arrays.items()}
            for i in range(0, n, ADAPT_BATCH_SIZE)]


def _expand(arr):
    return arr[:, None] if arr.ndim == 1 else arr


def adapt_batches(data, names):
    """The adapt data as a list of `{name: (batch, ...) array}` batches.

    `data`: a dict of columns, a pandas DataFrame, or an iterable of dict batches (a
    batch of `(b,)` columns gets a last axis; a stream of single examples, dicts of
    scalars, is batched by 32 as Keras batches an unbatched dataset).

    Example:
    >>> [b["x"].shape for b in adapt_batches({"x": np.arange(40.0)}, ["x"])]
    [(32, 1), (8, 1)]
    """
    if _is_pandas(data):
        data = {c: data[c].to_numpy() for c in data.columns}
    if isinstance(data, dict):
        missing = [n for n in names if n not in data]
        if missing:
            raise ValueError(f"FeatureSpace.adapt: the data has no column for the features "
                             f"{missing}; it has {list(data)}.")
        return _dict_batches(data, names)
    if not hasattr(data, "__iter__") or isinstance(data, (str, bytes, np.ndarray)):
        raise ValueError("`adapt()` can only be called on a dict of arrays/lists, a pandas "
                         "DataFrame, or an iterable of dict batches. "
                         f"Received instead: {data} (of type {type(data)})")
    batches, examples = [], []
    for batch in data:
        if isinstance(batch, tuple) and batch and isinstance(batch[0], dict):
            batch = batch[0]  # (x, y) batches: the features are x
        if not isinstance(batch, dict):
            raise ValueError("FeatureSpace.adapt: each batch of the stream must be a dict "
                             f"of columns. Received a batch of type {type(batch).__name__}.")
        cols = {n: as_column(batch[n]) for n in names}
        if cols and all(c.ndim == 0 for c in cols.values()):
            examples.append(cols)  # an unbatched stream: Keras batches it by 32
            continue
        batches.append({n: _expand(c) for n, c in cols.items()})
    if examples:
        batches += _dict_batches({n: np.stack([e[n] for e in examples]) for n in names}, names)
    if not batches:
        raise ValueError("FeatureSpace.adapt received an empty stream (no batches).")
    return batches
