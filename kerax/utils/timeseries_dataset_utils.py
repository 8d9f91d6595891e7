"""`timeseries_dataset_from_array`: sliding windows over a timeseries, as NumPy batches."""

import numpy as np

from kerax.utils.dataset_utils import SampleBatches


def _check_index(name, value, length):
    if value is not None and not 0 <= value < length:
        raise ValueError(f"`{name}` must be in [0, {length}) (the data's length). Received: {name}={value}.")


def timeseries_dataset_from_array(
    data,
    targets,
    sequence_length,
    sequence_stride=1,
    sampling_rate=1,
    batch_size=128,
    shuffle=False,
    seed=None,
    start_index=None,
    end_index=None,
):
    """Creates a dataset of sliding windows over a timeseries given as an array.

    Window `k` holds `data[s + i * sampling_rate]` for `i < sequence_length`, where
    `s = start_index + k * sequence_stride`; its target is `targets[s]`. Keras returns a
    `tf.data.Dataset`; kerax returns a `PyDataset` of NumPy batches, which `fit`
    accepts. With `shuffle=True` the windows are shuffled with
    `np.random.RandomState(seed)` (as Keras shuffles the start positions), and again
    at the end of every epoch.

    Args:
        data: array of timesteps (axis 0 is time).
        targets: `targets[i]` is the target of the window starting at `i`, or None.
        sequence_length: timesteps per window.
        sequence_stride: steps between the starts of successive windows.
        sampling_rate: steps between successive timesteps inside a window.
        batch_size: windows per batch (the last may be smaller); None yields single
            windows.
        shuffle: whether to shuffle the windows.
        seed: the shuffle's seed.
        start_index: first timestep used (inclusive).
        end_index: last timestep used (exclusive).

    Returns:
        A `PyDataset` yielding `(windows, targets)` batches, or `windows` when
        `targets` is None.

    Example:
    >>> ds = timeseries_dataset_from_array(np.arange(10), np.arange(10), sequence_length=3, batch_size=4)
    >>> x, y = ds[0]
    >>> x.tolist(), y.tolist()
    ([[0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5]], [0, 1, 2, 3])
    >>> len(ds)
    2
    """
    data = np.asarray(data)
    n = len(data)
    _check_index("start_index", start_index, n)
    _check_index("end_index", end_index, n + 1)
    if end_index is not None and end_index <= 0:
        raise ValueError(f"`end_index` must be higher than 0. Received: end_index={end_index}.")
    if start_index is not None and end_index is not None and start_index >= end_index:
        raise ValueError(
            f"`start_index` must be lower than `end_index`. Received: start_index={start_index}, "
            f"end_index={end_index}."
        )
    for name, value in (("sampling_rate", sampling_rate), ("sequence_stride", sequence_stride)):
        if not 0 < value < n:
            raise ValueError(f"`{name}` must be in (0, {n}) (the data's length). Received: {name}={value}.")
    start = start_index or 0
    end = n if end_index is None else end_index
    num_windows = end - start - (sequence_length - 1) * sampling_rate
    if targets is not None:
        targets = np.asarray(targets)
        num_windows = min(num_windows, len(targets))
    starts = np.arange(0, max(num_windows, 0), sequence_stride)
    if shuffle:
        np.random.RandomState(np.random.randint(1e6) if seed is None else seed).shuffle(starts)
    window = np.arange(sequence_length) * sampling_rate
    series = data[start:end]
    labels = None if targets is None else targets[start:end][starts]
    return SampleBatches(
        len(starts),
        lambda k: series[starts[k] + window],
        labels=labels,
        batch_size=batch_size,
        shuffle=shuffle,
        seed=seed,
    )
