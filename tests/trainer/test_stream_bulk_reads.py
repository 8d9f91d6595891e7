"""Streams read whole executions at once (a `PyDataset` and a finite grain `MapDataset` by
index, iterators a slice at a time) and run only the steps that have rows: the same
batches in the same order, so history and weights equal the array path's bit for bit.
A source that raises, an interrupt or an early stop leaves no thread of the fit behind."""

import threading

import numpy as np
import pytest

import kerax

N, B = 42, 8  # 6 batches: 5 full, one of 2 rows


def _data():
    rng = np.random.default_rng(3)
    return rng.standard_normal((N, 5)).astype("float32"), rng.integers(0, 3, N).astype("int32")


def _model(k="auto", dropout=False):
    kerax.utils.set_random_seed(7)
    layers = [kerax.Input((5,)), kerax.layers.Dense(16, activation="relu")]
    layers += [kerax.layers.Dropout(0.3)] if dropout else []
    m = kerax.Sequential(layers + [kerax.layers.Dense(3)])
    m.set_weights([np.full(w.shape, 0.05 * (i + 1), w.dtype) for i, w in
                   enumerate(m.get_weights())])
    m.compile("adam", kerax.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=["accuracy"], steps_per_execution=k)
    return m


class Batches(kerax.utils.PyDataset):
    def __init__(self, x, y, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y = x, y

    def __len__(self):
        return -(-len(self.x) // B)

    def __getitem__(self, i):
        return self.x[i * B:(i + 1) * B], self.y[i * B:(i + 1) * B]


def _batches(x, y):
    return [(x[i:i + B], y[i:i + B]) for i in range(0, N, B)]


def _generator(x, y, epochs=1):
    for _ in range(epochs):
        yield from _batches(x, y)


class Reiterable:
    def __init__(self, x, y):
        self.x, self.y = x, y

    def __iter__(self):
        return iter(_batches(self.x, self.y))


def _fit(source, k, epochs=2, dropout=False, **kw):
    m = _model(k, dropout)
    h = m.fit(source, epochs=epochs, verbose=0, **kw)
    return h.history, m.get_weights()


def _same(a, b):
    assert a[0] == b[0]  # history, float for float
    for u, v in zip(a[1], b[1]):
        assert u.tobytes() == v.tobytes()


# The default suite runs each stream kind once (the generator, of unknown length, with
# dropout and a short last execution); the other combinations are `slow`.
_FAST = {("py_dataset", False, "auto"), ("generator", True, 4), ("reiterable", True, "auto")}


@pytest.mark.parametrize("kind, dropout, k", [
    pytest.param(kind, dropout, k, marks=() if (kind, dropout, k) in _FAST
                 else pytest.mark.slow)
    for kind in ("py_dataset", "generator", "reiterable") for dropout in (False, True)
    for k in ("auto", 4)])
def test_streams_train_bit_for_bit_like_arrays(kind, k, dropout):
    x, y = _data()
    arrays = _fit(x, k, dropout=dropout, y=y, batch_size=B, shuffle=False)
    if kind == "generator":  # unknown length: the last execution is filled with empty steps
        stream = _fit(_generator(x, y, 2), k, dropout=dropout, steps_per_epoch=6)
        unknown = _fit(_generator(x, y), k, epochs=1, dropout=dropout)
        _same(unknown, _fit(x, k, epochs=1, dropout=dropout, y=y, batch_size=B,
                            shuffle=False))
    else:
        stream = _fit(Batches(x, y) if kind == "py_dataset" else Reiterable(x, y), k,
                      dropout=dropout, shuffle=False)
    _same(stream, arrays)


def test_grain_map_dataset_is_read_by_index_bit_for_bit_like_arrays():
    grain = pytest.importorskip("grain")
    x, y = _data()
    calls = []

    def batch(i):
        calls.append(i)
        return x[i * B:(i + 1) * B], y[i * B:(i + 1) * B]

    source = grain.MapDataset.range(6).map(batch)
    # A filtered element (None) is skipped, as grain's own iterator skips it.
    filtered = grain.MapDataset.range(7).map(lambda i: None if i == 2 else i - (i > 2)).map(
        lambda i: None if i is None else batch(i))
    arrays = _fit(x, "auto", y=y, batch_size=B, shuffle=False)
    calls.clear()
    _same(_fit(source, "auto"), arrays)
    assert calls == [0] + list(range(6)) * 2  # the peek, then each epoch in index order
    _same(_fit(filtered, "auto"), arrays)


@pytest.mark.parametrize("k", ["auto", 4])
def test_grain_map_dataset_is_read_with_one_getitems_call_per_execution(monkeypatch, k):
    grain = pytest.importorskip("grain")
    x, y = _data()
    source = grain.MapDataset.range(6).map(lambda i: (x[i * B:(i + 1) * B],
                                                      y[i * B:(i + 1) * B]))
    reads, getitems = [], type(source)._getitems

    def counted(self, indices):
        reads.append(list(indices))
        return getitems(self, indices)

    monkeypatch.setattr(type(source), "_getitems", counted)
    arrays = _fit(x, k, y=y, batch_size=B, shuffle=False)
    _same(_fit(source, k), arrays)
    # grain's bulk read, one call per execution (its elements mapped in one pass)
    assert reads == ([list(range(6))] * 2 if k == "auto" else [[0, 1, 2, 3], [4, 5]] * 2)


class Rows:
    """A grain data source of `(x, y)` examples with a batched read (`_getitems`)."""

    def __init__(self, x, y, reads, lose=False):
        self.x, self.y, self.reads, self.lose = x, y, reads, lose

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i], self.y[i]

    def _getitems(self, indices):
        self.reads.append(list(indices))
        return [self[i] for i in indices][:-1 if self.lose else None]


@pytest.mark.parametrize("drop_remainder", [False, True])
def test_grain_batch_reads_its_parent_in_bulk_bit_for_bit_like_arrays(drop_remainder):
    grain = pytest.importorskip("grain")
    x, y = _data()
    reads = []
    source = grain.MapDataset.source(Rows(x, y, reads)).map(lambda e: e).batch(
        B, drop_remainder=drop_remainder)
    n = N - N % B if drop_remainder else N  # 5 batches, or 6 with a short last one
    arrays = _fit(x[:n], 4, y=y[:n], batch_size=B, shuffle=False)
    _same(_fit(source, 4), arrays)
    # One read of the parent per execution: the elements of 4 batches, then the rest.
    assert reads == [list(range(4 * B)), list(range(4 * B, n))] * 2
    lossy = grain.MapDataset.source(Rows(x, y, [], lose=True)).batch(B)
    with pytest.raises(ValueError, match=r"The SourceMapDataset answered `_getitems` with "
                                         r"31 elements for 32 indices \(from 0\)"):
        _fit(lossy, 4)


def test_a_grain_getitems_that_loses_elements_is_an_error():
    grain = pytest.importorskip("grain")
    x, y = _data()

    class Batches(grain.MapDataset):
        def __len__(self):
            return 6

        def __getitem__(self, i):
            return x[i * B:(i + 1) * B], y[i * B:(i + 1) * B]

        def _getitems(self, indices):
            return [self[i] for i in indices][:-1]

    with pytest.raises(ValueError, match=r"The Batches answered `_getitems` with 3 elements "
                                         r"for 4 indices \(from 0\).*one element \(or "
                                         r"None, for a filtered one\) per index"):
        _fit(Batches(), 4)


def test_a_generator_that_raises_mid_epoch_raises_its_error_after_the_batches_before(keras):
    x, y = _data()

    def failing():
        yield from _batches(x, y)[:4]
        raise ValueError("batch 4 is corrupt")

    def run(lib):
        m = lib.Sequential([lib.Input((5,)), lib.layers.Dense(3)])
        m.set_weights([np.full(w.shape, 0.1, w.dtype) for w in m.get_weights()])
        m.compile(lib.optimizers.SGD(0.1),
                  lib.losses.SparseCategoricalCrossentropy(from_logits=True),
                  steps_per_execution=2)
        with pytest.raises(ValueError, match="batch 4 is corrupt"):
            m.fit(failing(), epochs=1, verbose=0)
        return m.get_weights()

    before = set(threading.enumerate())
    ours = run(kerax)
    assert set(threading.enumerate()) <= before
    for a, b in zip(ours, run(keras)):  # the 4 batches before the error were trained
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    m = kerax.Sequential([kerax.Input((5,)), kerax.layers.Dense(3)])
    m.set_weights([np.full(w.shape, 0.1, w.dtype) for w in m.get_weights()])
    m.compile(kerax.optimizers.SGD(0.1),
              kerax.losses.SparseCategoricalCrossentropy(from_logits=True))
    m.fit(x[:32], y[:32], batch_size=B, shuffle=False, verbose=0)
    for a, b in zip(ours, m.get_weights()):
        assert a.tobytes() == b.tobytes()


class Stop(kerax.callbacks.Callback):
    def __init__(self, how):
        super().__init__()
        self.how = how

    def on_train_batch_end(self, batch, logs=None):
        if batch >= 1 and self.how == "interrupt":
            raise KeyboardInterrupt
        if batch >= 1:
            self.model.stop_training = True


@pytest.mark.parametrize("how", ["interrupt", "stop_training"])
@pytest.mark.parametrize("kind", ["py_dataset", "py_dataset_workers", "generator"])
def test_an_interrupted_or_stopped_fit_leaves_no_thread_running(how, kind):
    x, y = _data()
    endless = (b for _ in range(10**6) for b in _batches(x, y))
    source = {"py_dataset": lambda: Batches(x, y),
              "py_dataset_workers": lambda: Batches(x, y, workers=2, max_queue_size=4),
              "generator": lambda: endless}[kind]()
    m = _model(1)
    before = set(threading.enumerate())
    if how == "interrupt":
        with pytest.raises(KeyboardInterrupt):
            m.fit(source, epochs=3, verbose=0, callbacks=[Stop(how)])
    else:
        m.fit(source, epochs=3, verbose=0, callbacks=[Stop(how)])
    assert set(threading.enumerate()) <= before
    assert m.optimizer.iterations.numpy() == 2
