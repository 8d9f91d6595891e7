"""`pad_sequences`: ragged lists to one padded array, as in Keras 3."""

import numpy as np


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre", value=0.0):
    """Pads (and truncates) a list of sequences to one array of shape `(N, maxlen)`.

    Args:
        sequences: a list of sequences (lists or arrays; elements may themselves be
            arrays of one common shape).
        maxlen: the output length; the longest sequence's length when `None`.
        dtype: the output dtype; use `object` for variable-length strings.
        padding: `"pre"` or `"post"`: pad before or after each sequence.
        truncating: `"pre"` or `"post"`: drop values from the start or the end of
            sequences longer than `maxlen`.
        value: the padding value.

    Returns:
        A NumPy array of shape `(len(sequences), maxlen) + element_shape`.

    Example:
    >>> pad_sequences([[1], [2, 3], [4, 5, 6]])
    array([[0, 0, 1],
           [0, 2, 3],
           [4, 5, 6]], dtype=int32)
    >>> pad_sequences([[1], [2, 3], [4, 5, 6]], maxlen=2, padding="post", truncating="post")
    array([[1, 0],
           [2, 3],
           [4, 5]], dtype=int32)
    """
    if not hasattr(sequences, "__len__"):
        raise ValueError(
            f"`sequences` must be a list of sequences. Received an object of type "
            f"{type(sequences).__name__} without a length."
        )
    if padding not in ("pre", "post"):
        raise ValueError(f'`padding` must be "pre" or "post". Received: padding={padding!r}.')
    if truncating not in ("pre", "post"):
        raise ValueError(f'`truncating` must be "pre" or "post". Received: truncating={truncating!r}.')
    lengths, sample_shape = [], None
    for i, s in enumerate(sequences):
        if not hasattr(s, "__len__"):
            raise ValueError(
                f"`sequences` must be a list of sequences, but the element at index {i} "
                f"is {s!r}, which has no length. Wrap scalars in a list."
            )
        lengths.append(len(s))
        if sample_shape is None and len(s):
            sample_shape = np.asarray(s).shape[1:]
    sample_shape = sample_shape or ()
    if maxlen is None:
        maxlen = max(lengths) if lengths else 0
    is_str_dtype = np.issubdtype(dtype, np.str_) or np.issubdtype(dtype, np.bytes_)
    if isinstance(value, str) and dtype is not object and not is_str_dtype:
        raise ValueError(
            f"`value`={value!r} is a string but `dtype`={dtype!r} is not: pass "
            "`dtype=object` to pad variable-length strings."
        )
    out = np.full((len(sequences), maxlen) + tuple(sample_shape), value, dtype=dtype)
    for i, s in enumerate(sequences):
        if not len(s) or maxlen == 0:
            continue
        trunc = np.asarray(s[-maxlen:] if truncating == "pre" else s[:maxlen], dtype=dtype)
        if trunc.shape[1:] != sample_shape:
            raise ValueError(
                f"Every element of every sequence must have shape {sample_shape} (the shape "
                f"of the first non-empty sequence's elements); the sequence at index {i} "
                f"has elements of shape {trunc.shape[1:]}."
            )
        if padding == "post":
            out[i, : len(trunc)] = trunc
        else:
            out[i, -len(trunc) :] = trunc
    return out
