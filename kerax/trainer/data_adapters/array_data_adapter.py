"""Arrays in, index plans out: how `fit` walks NumPy/JAX arrays without recompiling.

The arrays are checked once (lengths, dtypes, emptiness), placed on the device once when
they fit, and each epoch is a plan of batch indices `(steps, batch_size)` with a row mask:
the last short batch is padded with index 0 and masked, so every step has the same shape.
"""

import math
import sys
import warnings

import jax
import numpy as np

from kerax.distribution import placement

_DEVICE_BUDGET_BYTES = 2 * 1024**3


def _leaves(tree):
    return jax.tree_util.tree_leaves(tree)


def _describe(path):
    return "".join(str(p) for p in path) or "the input"


def is_pandas(x):
    """Whether `x` is a pandas DataFrame or Series (pandas is never imported: only checked
    when the program already imported it)."""
    pd = sys.modules.get("pandas")
    return pd is not None and isinstance(x, (pd.DataFrame, pd.Series))


def _pandas_values(where, frame):
    """A DataFrame's/Series' values as one NumPy array. Nullable columns (`Int64`,
    `Float64`, `boolean`) convert to their NumPy dtype; a missing value (`pd.NA`) in one is
    refused here, naming the columns, instead of failing later as an object array."""
    columns = frame.to_frame() if hasattr(frame, "to_frame") else frame  # a Series
    dtypes = getattr(columns, "dtypes", None)
    nullable = [] if dtypes is None else [c for c, d in dtypes.items()
                                          if hasattr(d, "numpy_dtype")]
    if not nullable:
        return np.asarray(frame)
    missing = [c for c in nullable if columns[c].isna().any()]
    if missing:
        raise ValueError(
            f"{where} has missing values (pd.NA) in column(s) {missing}. Fill or drop them "
            f"before training, e.g. `df.fillna(0)` or `df.dropna()`.")
    dtype = np.result_type(*[getattr(d, "numpy_dtype", d) for d in columns.dtypes])
    return frame.to_numpy(dtype=dtype)


def standardize(name, data):
    """Converts a (nested) array structure to NumPy arrays, with clear errors."""
    if data is None:
        return None

    def convert(path, a):
        where = f"`{name}`" + (f" at {_describe(path)}" if path else "")
        if isinstance(a, (str, bytes)):
            raise TypeError(f"{where} is a string; kerax trains on numeric arrays only.")
        if is_pandas(a):
            a = _pandas_values(where, a)  # its values, as Keras slices them
        elif not hasattr(a, "shape") or not hasattr(a, "dtype"):
            a = np.asarray(a)
        if a.dtype == object or a.dtype.kind in "USO":
            raise TypeError(
                f"{where} has dtype {a.dtype}, which kerax cannot train on. Convert it to a "
                "numeric array first (e.g. encode strings as integer ids)."
            )
        if a.ndim == 0:
            raise ValueError(f"{where} is a scalar; expected an array with a batch axis.")
        if isinstance(a, jax.Array):
            return a
        return np.asarray(a)

    return jax.tree_util.tree_map_with_path(convert, data)


def num_samples(*trees):
    """The shared batch size of all arrays; raises if they disagree or are empty."""
    sizes = {}
    for name, tree in trees:
        for a in _leaves(tree):
            sizes.setdefault(name, set()).add(int(a.shape[0]))
    for name, s in sizes.items():
        if len(s) > 1:
            raise ValueError(
                f"The arrays in `{name}` have different numbers of samples: {sorted(s)}. "
                "All inputs must have the same length on axis 0."
            )
    flat = {name: next(iter(s)) for name, s in sizes.items()}
    if len(set(flat.values())) > 1:
        desc = ", ".join(f"{k} has {v}" for k, v in flat.items())
        raise ValueError(
            f"Data cardinality is ambiguous: {desc} samples. Make sure all arrays contain "
            "the same number of samples."
        )
    n = next(iter(flat.values())) if flat else 0
    if n == 0:
        raise ValueError(
            "The input data is empty (0 samples). Pass at least one example to fit, "
            "evaluate or predict."
        )
    return n


def split_validation(arrays, validation_split, n):
    """Keras' `validation_split`: the last fraction of the samples, before shuffling."""
    split_at = int(math.floor(n * (1.0 - validation_split)))
    if split_at == 0 or split_at == n:
        raise ValueError(
            f"Training data contains {n} samples, which is not sufficient to split it into a "
            f"validation and training set as specified by `validation_split={validation_split}`. "
            "Either provide more data, or a different value for `validation_split`."
        )
    head = jax.tree_util.tree_map(lambda a: a[:split_at], arrays)
    tail = jax.tree_util.tree_map(lambda a: a[split_at:], arrays)
    return head, tail


def batch_bytes(arrays, batch_size):
    """Bytes of one batch of `arrays` (x, y, sample_weight)."""
    return int(sum(a.nbytes // max(1, a.shape[0]) for a in _leaves(arrays))) * int(batch_size)


def class_weights_to_sample_weights(y, class_weight):
    """Per-sample weights from a `{class_index: weight}` dict (Keras' `class_weight`).

    As in Keras, a class of `y` missing from `class_weight` gets weight 1.0 and a key that
    is no class of `y` is unused; kerax warns about both (Keras says nothing).
    """
    y = np.asarray(y)
    if y.ndim > 1:
        y = y.argmax(-1) if y.shape[-1] != 1 else y.squeeze(-1)
    labels = np.round(y.reshape(y.shape[0], -1)[:, 0]).astype(np.int64)
    present = sorted(int(c) for c in np.unique(labels))
    unknown = sorted(int(k) for k in class_weight if int(k) not in present)
    missing = [c for c in present if c not in class_weight]
    if unknown:
        warnings.warn(
            f"`class_weight` names classes {unknown} that do not occur in `y` (its classes: "
            f"{present}); their weights are unused. Check the class indices.", stacklevel=4)
    if missing:
        warnings.warn(
            f"`class_weight` has no weight for classes {missing} of `y`: their samples get "
            "weight 1.0 (as in Keras). Add them to `class_weight` to choose their weight.",
            stacklevel=4)
    weights = np.ones(labels.shape[0], np.float32)
    for k, w in class_weight.items():
        weights[labels == int(k)] = w
    return weights


class ArrayDataAdapter:
    """Batches arrays as index plans over device-resident data.

    Args:
        x, y, sample_weight: arrays or nested structures of arrays (same length).
        batch_size: examples per step.
        steps: steps per epoch (default: one pass over the data).
        shuffle: True (every epoch), False, or "batch" (drawn from the global NumPy RNG,
            as in Keras).
    """

    def __init__(self, x, y=None, sample_weight=None, batch_size=32, steps=None,
                 shuffle=False):
        self.num_samples = num_samples(("x", x), ("y", y), ("sample_weight", sample_weight))
        # Under a multi-process distribution each process walks its own block of the data
        # with its share of the (global) batch.
        total = self.num_samples
        (x, y, sample_weight), self.num_samples = placement.local_batch_share(
            (x, y, sample_weight), total)
        if placement.current() is not None and jax.process_count() > 1:
            batch_size = placement.local_batch_size(batch_size)
        self.batch_size = int(batch_size)
        self.batches_per_pass = math.ceil(self.num_samples / self.batch_size)
        self.steps_per_epoch = int(steps) if steps is not None else self.batches_per_pass
        self.shuffle = shuffle
        self._pass_plan = None
        self._pass_pos = 0
        data = (x, y, sample_weight)
        nbytes = sum(a.nbytes for a in _leaves(data))
        self.on_device = nbytes <= _DEVICE_BUDGET_BYTES
        self.data = placement.place_data(data) if self.on_device else data

    # The epoch hooks a `StreamDataAdapter` has: arrays need none of them.
    exhausted = False

    def on_epoch_begin(self):
        pass

    def on_epoch_end(self):
        pass

    def close(self):
        pass

    def rng_state(self):
        """The global NumPy RNG state later passes' orders come from, JSON-able (None when
        not shuffled): a `BackupAndRestore` checkpoint saves it for an exact resume."""
        if not self.shuffle:
            return None
        name, keys, pos, has_gauss, gauss = np.random.get_state()
        return {"bit_generator": name, "keys": [int(k) for k in keys], "pos": int(pos),
                "has_gauss": int(has_gauss), "cached_gaussian": float(gauss)}

    def set_rng_state(self, state):
        """Restores `rng_state()`'s state (KeyError/ValueError if it is not one)."""
        if state is None:
            return
        np.random.set_state((state["bit_generator"], np.asarray(state["keys"], np.uint32),
                             int(state["pos"]), int(state["has_gauss"]),
                             float(state["cached_gaussian"])))

    def draw_for_build(self):
        """Advances the NumPy RNG as Keras' first `fit` after `compile` does: it builds the
        model, metrics and optimizer from a first batch of a shuffled pass it drops."""
        if self.shuffle == "batch":
            np.random.permutation(min(self.batch_size, self.num_samples))
        elif self.shuffle:
            np.random.permutation(self.num_samples)

    def _new_pass(self):
        # As Keras' array adapter (`_get_iterator`): the order comes from the global NumPy
        # RNG, one `np.random.permutation(n)` per pass (shuffle=True) or one
        # `np.random.permutation(rows) + start` per batch ("batch"), so a program seeded
        # with `keras.utils.set_random_seed` trains on the same order on both.
        n, b = self.num_samples, self.batch_size
        order = np.arange(n)
        if self.shuffle == "batch":
            order = np.concatenate([np.random.permutation(min(b, n - s)) + s
                                    for s in range(0, n, b)])
        elif self.shuffle:
            order = np.random.permutation(n)
        pad = self.batches_per_pass * b - n
        idx = np.concatenate([order, np.zeros(pad, np.int64)]).reshape(-1, b)
        mask = np.concatenate([np.ones(n, bool), np.zeros(pad, bool)]).reshape(-1, b)
        return idx.astype(np.int32), mask

    def epoch_plan(self):
        """`(indices, mask)` of shape `(steps, batch_size)` for the next epoch.

        With `steps` (Keras' `steps_per_epoch`) the epochs walk one pass over the data
        after another; as in Keras, an epoch that reaches the end of a pass before its
        `steps` ends there, with Keras' "ran out of data" warning, and the next epoch
        starts a new pass.
        """
        if self._pass_plan is None or self._pass_pos >= self.batches_per_pass:
            self._pass_plan, self._pass_pos = self._new_pass(), 0
        take = min(self.steps_per_epoch, self.batches_per_pass - self._pass_pos)
        if take < self.steps_per_epoch:
            warnings.warn(
                "Your input ran out of data; interrupting training. Make sure that your "
                "dataset or generator can generate at least `steps_per_epoch * epochs` "
                "batches. You may need to use the `.repeat()` function when building your "
                "dataset.", stacklevel=3)
        idx, mask = self._pass_plan
        plan = (idx[self._pass_pos:self._pass_pos + take],
                mask[self._pass_pos:self._pass_pos + take])
        self._pass_pos += take
        if self.steps_per_epoch == self.batches_per_pass:
            self._pass_plan = None
        return plan

    def place_plan(self, idx, mask):
        """An execution's slice of the plan, laid out for the current distribution."""
        return placement.place_plan(idx, mask, self.num_samples)

    def gather(self, data, idx):
        """The batch at `idx` (traceable: used inside the compiled step)."""
        return jax.tree_util.tree_map(lambda a: a[idx], data)

    def host_batches(self, idx):
        """Host-side gather for data too large to keep on the device."""
        return jax.tree_util.tree_map(lambda a: np.asarray(a)[idx], self.data)
