"""Batches that arrive one at a time: PyDataset, generators, tf.data, torch, grain.

Each execution takes up to K batches from the source at once (a `PyDataset` and a finite
grain `MapDataset` are read by index, the latter in one `_getitems` call, and a
`MapDataset.batch(...)` with one `_getitems` call on its parent for the elements of all K
batches; an iterator a slice at a time), pads every batch to one batch size (masking the
padded rows) and stacks them into one new host buffer, which the compiled execution takes
as its argument (on the CPU it reads the buffer in place, without the ~40 µs of Python of
a `jax.device_put` per execution), so all executions share one shape; a short final
execution is filled with empty steps, which the compiled loop does not run. The
next execution is read and stacked while the device runs the current one (jax dispatches
asynchronously); a `PyDataset` with `workers > 1` also fetches batches in a thread pool.

Data position (for an exact resume with `BackupAndRestore`): every execution carries the
source's position after its last batch. A `PyDataset` resumes at that batch index and a
grain iterator at its saved `get_state()`; a re-iterable without state (tf.data, torch)
skips the batches already trained, which is exact only if it yields the same batches in
the same order on every pass; a single-use generator cannot rewind, so a mid-epoch resume
continues with the generator's next batches (with a warning).

Several processes (`jax.distributed`, a distribution with `auto_shard_dataset=True`):
each process reads the same source and keeps one batch of every group of
`process_count()` consecutive batches (process `i` the `i`-th), so the global batch of a
step is `process_count()` source batches and no two processes train on the same data; an
incomplete last group is dropped on every process alike. A `PyDataset` fetches only its
own indices.
"""

import itertools
import json
import warnings
from concurrent.futures import ThreadPoolExecutor

import jax
import numpy as np

from kerax.distribution import placement
from kerax.trainer.data_adapters import array_data_adapter as ada
from kerax.utils.py_dataset import PyDataset


def is_stream(x):
    """Whether `x` is a batch source rather than arrays."""
    if x is None or isinstance(x, (np.ndarray, jax.Array, list, tuple, dict)):
        return False
    if hasattr(x, "shape") and hasattr(x, "dtype") or ada.is_pandas(x):
        return False
    return isinstance(x, PyDataset) or hasattr(x, "__iter__") or hasattr(x, "__next__")


def is_grain(x):
    """Whether `x` is a grain object (checked by module name: grain is never imported)."""
    return any(c.__module__.split(".")[0] == "grain" for c in type(x).__mro__)


def is_map_dataset(x):
    """Whether `x` is a finite grain `MapDataset` (read by index, not iterated)."""
    if not (is_grain(x) and any(c.__name__ == "MapDataset" for c in type(x).__mro__)):
        return False
    try:
        return len(x) < 2**62  # a repeated dataset reports sys.maxsize
    except TypeError:
        return False


def _rows(batch):
    x, y, sample_weight = batch
    # The common batch, plain arrays that agree, without the general check's tree walk.
    if type(x) is np.ndarray and x.ndim and x.shape[0]:
        n = x.shape[0]
        if ((y is None or type(y) is np.ndarray and y.ndim and y.shape[0] == n)
                and (sample_weight is None or type(sample_weight) is np.ndarray
                     and sample_weight.ndim and sample_weight.shape[0] == n)):
            return n
    return ada.num_samples(("x", x), ("y", y), ("sample_weight", sample_weight))


def _process_shards():
    """`(process_count, process_index)` when stream batches are split across processes."""
    if jax.process_count() == 1:
        return None
    dist = placement.current()
    if dist is None or not getattr(dist, "auto_shard_dataset", True):
        return None
    return jax.process_count(), jax.process_index()


def _to_numpy(a):
    if a is None or type(a) is np.ndarray:
        return a
    if hasattr(a, "numpy") and not isinstance(a, (np.ndarray, jax.Array)):
        a = a.numpy()  # torch tensors, tf tensors
    return a if isinstance(a, jax.Array) else np.asarray(a)


def unpack(batch):
    """`x`, `(x,)`, `(x, y)` or `(x, y, sample_weight)` -> `(x, y, sample_weight)`.

    A list is read as a tuple, as Keras does (a torch `DataLoader` yields `[x, y]`).
    """
    if isinstance(batch, list):
        batch = tuple(batch)
    if isinstance(batch, tuple):
        if len(batch) == 1:
            batch = (batch[0], None, None)
        elif len(batch) == 2:
            batch = (batch[0], batch[1], None)
        elif len(batch) != 3:
            raise ValueError(
                "A batch must be `x`, `(x,)`, `(x, y)` or `(x, y, sample_weight)`; received a "
                f"tuple of {len(batch)} elements."
            )
    else:
        batch = (batch, None, None)
    x, y, sample_weight = batch
    if (type(x) is np.ndarray and (y is None or type(y) is np.ndarray)
            and (sample_weight is None or type(sample_weight) is np.ndarray)):
        return batch  # plain arrays: nothing to convert (the per-batch cost of a stream)
    return jax.tree_util.tree_map(_to_numpy, batch)


# Batches of a generator read before training (Keras' `NUM_BATCHES_FOR_TENSOR_SPEC`).
_PEEKED_BATCHES = 2


class StreamDataAdapter:
    """Iterates a batch source epoch by epoch, in executions of `k` padded batches.

    Args:
        source: a `kerax.utils.PyDataset`, a generator or iterator, a re-iterable
            (tf.data dataset, torch DataLoader, list of batches, ...), or a grain
            `MapDataset`, `IterDataset` or `DataLoader` whose elements are batches.
        steps: steps per epoch; None means "until the source is exhausted".
    """

    exhausted = False
    # True: never pad a batch (an execution holds batches of one size, and a batch of
    # another size starts the next execution), for losses that see every row.
    exact_rows = False

    def __init__(self, source, steps=None, shuffle_seed=None, class_weight=None):
        self.source = source
        self.is_py_dataset = isinstance(source, PyDataset)
        if self.is_py_dataset:
            self.kind = "py_dataset"
        elif is_grain(source):
            self.kind = "grain"
        elif hasattr(source, "__next__"):
            self.kind = "generator"
        else:
            self.kind = "iterable"
        self.user_steps = steps
        self.class_weight = class_weight
        if class_weight is not None and self.kind in ("generator", "grain"):
            what = "Python generator" if self.kind == "generator" else "grain dataset"
            raise ValueError(
                f"Argument `class_weight` is not supported for {what} inputs (as in "
                "Keras): yield `(x, y, sample_weight)` batches with the weights instead. "
                f"Received: class_weight={class_weight}")
        # `fit(shuffle=True)` on a PyDataset: its batch indices in a new order every pass,
        # as Keras does (other sources are expected to shuffle themselves).
        self._order_rng = (np.random.default_rng(shuffle_seed)
                           if shuffle_seed is not None and self.is_py_dataset else None)
        self._order_seed = None
        self.shards = _process_shards()  # (count, index) with several processes, else None
        self._iterator = None
        self.batch_size = None
        self._pool = None
        if self.is_py_dataset:
            workers = max(1, int(getattr(source, "workers", 1) or 1))
            if workers > 1:
                self._pool = ThreadPoolExecutor(workers)
        known = self._known_length()
        if known is not None and self.shards is not None:
            known //= self.shards[0]
        self.steps_per_epoch = steps if steps is not None else known
        self.epoch = 0
        self.position = 0  # batches taken from the current pass (read ahead by prefetch)
        # (position, iterator state, state is bytes) after the last execution handed out
        self.trained_position = (0, None, False)
        self._resume = None  # (position, iterator state) to start the next pass at

    def shuffle_with(self, seed):
        """`fit(shuffle=True)` on a PyDataset: its batch order is drawn from `seed`."""
        self._order_rng = np.random.default_rng(seed) if self.is_py_dataset else None

    def _known_length(self):
        src = self.source
        if self.is_py_dataset:
            return int(src.num_batches if getattr(src, "num_batches", None) is not None
                       else len(src))
        if hasattr(src, "cardinality"):  # tf.data
            try:
                n = int(src.cardinality())
                return n if n >= 0 else None
            except Exception:
                return None
        if hasattr(src, "__len__") and hasattr(src, "__iter__") and not hasattr(src, "__next__"):
            try:
                n = len(src)
            except TypeError:
                return None
            return n if n < 2**62 else None  # a repeated grain dataset reports sys.maxsize
        return None

    # ------------------------------------------------------------------ iteration --
    def _fresh_iterator(self):
        src = self.source
        resume, self._resume = self._resume, None
        if self.is_py_dataset:
            if self._order_rng is not None:
                self._order_seed = (resume[1] if resume and resume[1] is not None
                                    else int(self._order_rng.integers(2**31)))
            start = resume[0] if resume else 0
            if self._pool is None and self.shards is None:
                n = self._known_length()
                order = (np.random.default_rng(self._order_seed).permutation(n).tolist()
                         if self._order_seed is not None else range(n))
                return _IndexReader(self, src.__getitem__, order, start)
            return self._py_dataset_iter(start)
        if is_map_dataset(src):  # by index, as grain's own iterator reads it, in bulk
            return _IndexReader(self, src.__getitem__, range(len(src)),
                                resume[0] if resume else 0, skip_none=True,
                                get_many=_batches_read_in_bulk(src) or src._getitems)
        if hasattr(src, "as_numpy_iterator"):
            it = iter(src.as_numpy_iterator())
        elif hasattr(src, "__next__"):
            # A generator cannot rewind: as in Keras, a new pass replays the batches read
            # to build the model (Keras' `peek_and_restore`), then whatever is left.
            return itertools.chain(self._replay, src)
        else:
            it = iter(src)
        if resume is not None:
            self.position = resume[0]
        if resume is not None and resume[1] is not None:
            it.set_state(_decode_state(resume[1], resume[2]))
        elif resume is not None:
            for _ in range(resume[0]):  # no state to restore: skip what was trained
                next(it, None)
        return it

    def _py_dataset_iter(self, start=0):
        """Batches from index `start`, fetched by the worker pool; with several
        processes, placeholders (None) stand for the other processes' batches, which are
        never fetched."""
        src = self.source
        n = self._known_length()
        count, own = self.shards or (1, 0)
        if count > 1:
            n -= n % count  # every process stops after the same complete group
        order = (np.random.default_rng(self._order_seed).permutation(n)
                 if self._order_seed is not None else range(n))
        fetch = lambda i: src[int(order[i])] if i % count == own else None  # noqa: E731
        self.position = start
        if self._pool is None:
            for i in range(start, n):
                self.position = i + 1
                yield fetch(i)
            return
        depth = max(1, int(getattr(src, "max_queue_size", 10) or 10))
        futures = []
        for i in range(start, n):
            futures.append(self._pool.submit(fetch, i))
            if len(futures) >= depth:
                self.position += 1
                yield futures.pop(0).result()
        for f in futures:
            self.position += 1
            yield f.result()

    def _take(self, n):
        """Up to `n` raw batches of the current pass, read at once (fewer: it ended)."""
        if type(self._iterator) is _IndexReader:
            return self._iterator.take(n)
        batches = list(itertools.islice(self._iterator, n))
        if self.kind != "py_dataset":
            self.position += len(batches)
        return batches

    # A function applied to every batch's `x` (e.g. a dict keyed by a single-input
    # model's input name -> its array), set by the trainer after checking the first batch.
    x_transform = None

    def _unpack_all(self, batches):
        if self.x_transform is None and self.class_weight is None:
            return [unpack(batch) for batch in batches]
        return [self._unpack(batch) for batch in batches]

    def _unpack(self, batch):
        """`unpack`, then Keras' `class_weight` as the batch's sample weights."""
        x, y, sample_weight = unpack(batch)
        if self.x_transform is not None:
            x = self.x_transform(x)
        if self.class_weight is None:
            return x, y, sample_weight
        if sample_weight is not None:
            raise ValueError(
                "You cannot specify `class_weight` and `sample_weight` at the same time: "
                "the dataset yields `(x, y, sample_weight)` batches.")
        return x, y, ada.class_weights_to_sample_weights(y, self.class_weight)

    def new_pass(self):
        """Starts the next epoch at a new pass (a generator's: the batches Keras peeked,
        then what is left), as Keras' `EpochIterator.reset()` before each `evaluate`."""
        self._iterator = None

    def on_epoch_begin(self):
        if self.is_py_dataset and hasattr(self.source, "on_epoch_begin"):
            self.source.on_epoch_begin()

    def on_epoch_end(self):
        self.epoch += 1
        if self.is_py_dataset and hasattr(self.source, "on_epoch_end"):
            self.source.on_epoch_end()

    def _state(self):
        """`(position, iterator state)` right after the batch just taken."""
        if self.kind == "grain" and hasattr(self._iterator, "get_state"):
            state = self._iterator.get_state()
            return self.position, _encode_state(state), isinstance(state, bytes)
        return self.position, self._order_seed, False  # a PyDataset's pass order

    def epoch_chunks(self, size):
        """Yields this epoch's batches, as the source gives them, in lists of up to `size`
        (shorter only at the epoch's end), each with the position after its last batch.

        With several processes, this process's batch of each complete group of
        `process_count()` source batches, with the position after the whole group.
        """
        if self.shards is None:
            yield from self._source_chunks(self.user_steps, size)
            return
        count, own = self.shards
        steps = None if self.user_steps is None else self.user_steps * count
        for raw, state in self._source_chunks(steps, size * count):
            mine = raw[own:len(raw) - len(raw) % count:count]  # complete groups only
            if mine:
                yield mine, state

    def _source_chunks(self, steps, size):
        """The source's raw batches in lists of up to `size`, with the position after
        each list; `steps` (None: until the source ends) bounds them all."""
        taken = 0
        while steps is None or taken < steps:
            if self._iterator is None:
                self.position = 0
                self._iterator = self._fresh_iterator()
            fresh = self.position == 0
            want = size if steps is None else min(size, steps - taken)
            batches = self._take(want)
            if batches:
                taken += len(batches)
                yield batches, self._state()
            if len(batches) == want:
                continue
            self._iterator = None  # the pass ended
            if steps is None:
                if self.kind == "generator":  # Keras warns at a generator's end too
                    _warn_ran_out()
                return
            if taken == 0 and not fresh and self.kind != "generator":
                continue  # the last epoch ended with the pass: start a new one
            # As in Keras: the epoch ends here, with a warning; the next epoch starts
            # a new pass (a generator's replays the batches Keras peeked).
            _warn_ran_out()
            if taken == 0:
                self.exhausted = True
            return

    # ----------------------------------------------------------------- resume --
    def get_position(self):
        """The data position after the last execution handed out (JSON-able)."""
        position, state, is_bytes = self.trained_position
        order = {} if self._order_rng is None else {
            "order_rng": self._order_rng.bit_generator.state}
        return {"source": self.kind, "position": int(position), "iterator_state": state, **order,
                "state_is_bytes": is_bytes}

    def check_position(self, saved):
        """Raises if a checkpoint's data position was written for another kind of source."""
        if saved.get("source") != self.kind:
            raise ValueError(
                f"The checkpoint was written while training on a {saved.get('source', 'array')}"
                f" input, but this `fit` reads a {self.kind} input. Resume with the same "
                "data, or start from an empty backup directory."
            )

    def set_position(self, saved, mid_epoch):
        """Makes the next pass start where a checkpoint left off.

        At an epoch boundary of an epoch-long pass, the next pass starts afresh.
        """
        self.check_position(saved)
        if self._order_rng is not None and saved.get("order_rng") is not None:
            self._order_rng.bit_generator.state = saved["order_rng"]
        if not mid_epoch and self.user_steps is None:
            return
        if self.kind == "generator":
            if mid_epoch:
                warnings.warn(
                    "Resuming training in the middle of an epoch on a Python generator: a "
                    "generator cannot be rewound, so the rest of the epoch takes the "
                    "generator's next batches and the resumed run is not exactly the "
                    "uninterrupted one. For an exact resume use a `kerax.utils.PyDataset` "
                    "(resumed by batch index) or a grain dataset (resumed by its iterator "
                    "state).", stacklevel=2)
            return
        self._iterator = None
        self._resume = self.trained_position = (
            saved["position"], saved.get("iterator_state"), saved.get("state_is_bytes", False))

    # -------------------------------------------------------------- executions --
    def executions(self, k):
        """Yields `(batches, mask, real_steps)` stacked to `k` steps.

        When the epoch's length is known, the last execution holds only its real steps
        (a second program, compiled once); otherwise it is filled with empty steps, which
        the compiled loop does not run, so any length runs on one program. While the
        consumer holds an execution, `trained_position` is the source's position after
        that execution's last batch.

        The next execution is read and stacked when the consumer asks for it, in its
        thread: the epoch loop asks right after dispatching the current one, which jax
        runs asynchronously, so the host work overlaps the device's. (A producer thread
        would hold the interpreter lock while it runs Python, and delay each of the
        loop's dispatches by up to the interpreter's switch interval, 5 ms.)
        """
        for execution, self.trained_position in self._stacked(k):
            yield execution

    def _stacked(self, k):
        """This epoch's executions `(batches, mask, real_steps)`, each with the position
        after its last batch."""
        # Exact batches (never padded) come in executions of `k` steps whatever their
        # number, so wherever a batch of another size falls there is one program per size.
        tail_fits = self.steps_per_epoch is not None and not self.exact_rows
        if not self.exact_rows:
            # Whole executions read at once: one list of `k` batches, stacked once.
            for chunk, state in self.epoch_chunks(k):
                size = k if len(chunk) == k or not tail_fits else len(chunk)
                yield (self._stack_pairs(chunk, size)
                       or self._stack(self._unpack_all(chunk), size)), state
            return
        chunk, state = [], None  # batch by batch: a batch of another size ends an execution
        for (batch,), new_state in self.epoch_chunks(1):
            batch = self._unpack(batch)
            if chunk and _rows(batch) != _rows(chunk[0]):
                yield self._stack(chunk, len(chunk) if tail_fits else k), state
                chunk = []
            state = new_state
            chunk.append(batch)
            if len(chunk) == k:
                yield self._stack(chunk, k), state
                chunk = []
        if chunk:
            yield self._stack(chunk, len(chunk) if tail_fits else k), state

    def _stack_pairs(self, chunk, k):
        """`_stack` of the common chunk, `k` full `(x, y)` tuples of NumPy arrays of one
        batch size, checked and stacked without a step per batch; None for any other."""
        if (len(chunk) != k or self.x_transform is not None or self.class_weight is not None
                or set(map(type, chunk)) != {tuple} or set(map(len, chunk)) != {2}):
            return None
        xs, ys = zip(*chunk)
        if set(map(type, xs)) != {np.ndarray} or set(map(type, ys)) != {np.ndarray}:
            return None
        try:
            sizes = set(map(len, xs)) | set(map(len, ys))
        except TypeError:  # a 0-d array: the general path names the problem
            return None
        b = sizes.pop()
        if sizes or b == 0 or b < (self.batch_size or 0):
            return None  # rows that differ or need padding: the general path
        try:
            batches = (_stack_full(*xs), _stack_full(*ys), None)
        except ValueError:  # batches whose feature shapes differ
            return None
        self.batch_size = b
        return batches, self._full_mask(k, b), k

    def _stack(self, chunk, k):
        """`k` steps of batches padded to one batch size, written once into one buffer."""
        sizes = [_rows(batch) for batch in chunk]
        if self.exact_rows:
            b = max(sizes)  # one size per execution: no padded rows
        else:
            self.batch_size = b = max([self.batch_size or 0] + sizes)
        if len(chunk) == k and sizes.count(b) == k:  # full batches: one copy, no padding
            try:
                batches = jax.tree_util.tree_map(_stack_full, *chunk)
            except ValueError:  # batches whose feature shapes differ: the general path
                pass
            else:
                return batches, self._full_mask(k, b), k
        mask = _host_buffer((k, b), bool, fill=False)
        for i, n in enumerate(sizes):
            mask[i, :n] = True

        def stack(*leaves):
            first = np.asarray(leaves[0])
            out = _host_buffer((k, b) + first.shape[1:], first.dtype, fill=0)
            for i, a in enumerate(leaves):
                out[i, :sizes[i]] = a
            return out

        batches = jax.tree_util.tree_map(stack, *chunk)
        return batches, mask, len(chunk)

    def _full_mask(self, k, b):
        """The all-true `(k, b)` mask on the device, made once per shape."""
        cache = self.__dict__.setdefault("_full_masks", {})
        if (k, b) not in cache:
            cache[(k, b)] = jax.device_put(np.ones((k, b), bool))
        return cache[(k, b)]

    def peek(self):
        """The first batch, to build the model and check shapes (it is not consumed)."""
        if getattr(self, "_peeked", None) is None:
            self._peeked = self._peek()
        return self._peeked

    def _peek(self):
        if self.is_py_dataset:
            if self.source.num_batches == 0:
                raise ValueError(
                    f"The data is empty: the {type(self.source).__name__} passed to a kerax "
                    f"model has no batches (its `__len__` returns 0). Check its length.")
            return self._unpack(self.source[0])
        if self.kind == "generator":
            # Keras reads the first `_PEEKED_BATCHES` batches for the model's input spec.
            self._replay = list(itertools.islice(self.source, _PEEKED_BATCHES))
            if not self._replay:
                raise ValueError(
                    "When passing a Python generator to a kerax model, the generator must "
                    "yield at least one batch. Received an empty generator.")
            self._iterator = itertools.chain(self._replay, self.source)
            return self._unpack(self._replay[0])
        src = self.source
        if is_map_dataset(src):
            it = (b for b in map(src.__getitem__, range(len(src))) if b is not None)
        else:
            it = iter(src.as_numpy_iterator()) if hasattr(src, "as_numpy_iterator") else iter(src)
        for first in it:
            return self._unpack(first)
        raise ValueError(f"The data is empty: the {type(src).__name__} passed to a kerax model "
                         f"yields no batches. Give it at least one batch.")

    def close(self):
        """Stops a `PyDataset`'s worker threads: batches not yet fetched are cancelled,
        and the fetches under way end before this returns."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)


class _IndexReader:
    """A pass over a random-access source (a `PyDataset`, a finite grain `MapDataset`)
    from index `start` of `order`, read many batches at a time; the adapter's `position`
    is the next index. `skip_none`: a missing element (grain's `filter`) is skipped, as
    grain's own iterator does. `get_many` (a grain `MapDataset`'s `_getitems`): reads a
    list of indices in one call, which grain's transformations answer in bulk (one
    statistics record per call instead of one per element, a batched source read)."""

    def __init__(self, adapter, get, order, start, skip_none=False, get_many=None):
        self.adapter, self.get, self.order, self.skip_none = adapter, get, order, skip_none
        self.get_many = get_many
        adapter.position = start

    def take(self, n):
        get, order, adapter = self.get, self.order, self.adapter
        batches = []
        while len(batches) < n and adapter.position < len(order):
            end = min(adapter.position + n - len(batches), len(order))
            indices = order[adapter.position:end]
            got = ([get(i) for i in indices] if self.get_many is None
                   else self._read_many(list(indices)))
            adapter.position = end
            batches += [b for b in got if b is not None] if self.skip_none else got
        return batches

    def _read_many(self, indices):
        return _checked_count(self.adapter.source, self.get_many(indices), indices)


def _checked_count(dataset, got, indices):
    """`got`, the answer of `dataset._getitems(indices)`, if it has one element per index."""
    if len(got) != len(indices):
        raise ValueError(
            f"The {type(dataset).__name__} answered `_getitems` with {len(got)} elements for "
            f"{len(indices)} indices (from {indices[0]}): grain's contract is one element "
            "(or None, for a filtered one) per index. Fix its `_getitems`, or remove it so "
            "that grain's default reads each index with `__getitem__`.")
    return got


def _batches_read_in_bulk(dataset):
    """For grain's `MapDataset.batch(...)` (a `BatchMapDataset`): `indices -> batches`
    that reads all their elements with one `_getitems` call on the parent, then batches
    each batch's elements as its `__getitem__` does (grain's own batch pushdown, which
    grain 0.2 keeps behind an experiment flag): the parent's transformations answer in
    bulk instead of element by element. None for any other dataset."""
    if type(dataset).__name__ != "BatchMapDataset" or not is_grain(dataset):
        return None
    try:
        parent, size, batch_fn = dataset._parent, dataset._batch_size, dataset._batch_fn
        rows, read = len(parent), parent._getitems
    except (AttributeError, TypeError):  # another grain version's internals
        return None
    if not (isinstance(size, int) and size > 0 and callable(batch_fn)):
        return None

    def batches(indices):
        # As `BatchMapDataset.__getitem__`: batch i holds elements [i*size, (i+1)*size).
        spans = [(i * size, min(rows, (i + 1) * size)) for i in indices]
        wanted = [j for start, stop in spans for j in range(start, stop)]
        elements = _checked_count(parent, list(read(wanted)), wanted)
        out, at = [], 0
        for start, stop in spans:
            out.append(batch_fn(elements[at:at + stop - start]))
            at += stop - start
        return out

    return batches


def _stack_full(*leaves):
    """Equal-size batches' leaves as one `(k, batch, ...)` array of the first's dtype."""
    first = np.asarray(leaves[0])
    if first.ndim == 0:
        raise ValueError("Scalar leaves cannot be stacked as batches.")
    out = _host_buffer((len(leaves),) + first.shape, first.dtype)
    # One copy into the buffer (faster than np.stack); shapes that differ raise.
    np.concatenate(leaves, out=out.reshape((-1,) + first.shape[1:]), casting="unsafe")
    return out


def _host_buffer(shape, dtype, fill=None):
    """A new host array on a 64-byte boundary: a jitted program (or `jax.device_put`) on
    the CPU then reads it in place instead of copying it (the caller must not write to it
    afterwards)."""
    dtype = np.dtype(dtype)
    if dtype.hasobject:
        return np.empty(shape, dtype) if fill is None else np.full(shape, fill, dtype)
    size = int(np.prod(shape)) * dtype.itemsize
    raw = np.empty(size + 64, np.uint8)
    start = -raw.ctypes.data % 64
    out = raw[start:start + size].view(dtype).reshape(shape)
    if fill is not None:
        out.fill(fill)
    return out


def _warn_ran_out():
    warnings.warn(
        "Your input ran out of data; interrupting training. Make sure that your dataset "
        "or generator can generate at least `steps_per_epoch * epochs` batches. You may "
        "need to use the `.repeat()` function when building your dataset.", stacklevel=4)


def _encode_state(state):
    """A grain iterator state as JSON: DataLoader states are JSON bytes, others dicts."""
    if isinstance(state, bytes):
        return state.decode("utf-8")
    return json.loads(json.dumps(state))


def _decode_state(state, is_bytes):
    return state.encode("utf-8") if is_bytes else state
