"""Data position is training state: an interrupted `fit` on a PyDataset or a grain
dataset resumes (BackupAndRestore) at the next batch, bit-exact; a generator warns."""

import numpy as np
import pytest

import kerax
from kerax.callbacks.backup_and_restore import BackupAndRestore


def _data(n=44):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((n, 4)).astype("float32")
    return x, (x @ np.array([[1.0], [-2.0], [0.5], [1.5]], "float32")).astype("float32")


class Batches(kerax.utils.PyDataset):
    def __init__(self, x, y, batch_size=8, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.b = x, y, batch_size

    def __len__(self):
        return -(-len(self.x) // self.b)

    def __getitem__(self, i):
        s = slice(i * self.b, (i + 1) * self.b)
        return self.x[s], self.y[s]


class Reiterable:
    """Like a tf.data dataset or torch DataLoader: a fresh iterator each epoch."""

    def __init__(self, batches):
        self.batches = batches

    def __iter__(self):
        return iter(self.batches)

    def __len__(self):
        return len(self.batches)


class Interrupt(kerax.callbacks.Callback):
    """Raises after `at` batches (counted over epochs), like a crash."""

    def __init__(self, at, steps=6):
        super().__init__()
        self.at, self.steps, self.epoch = at, steps, 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.epoch * self.steps + batch + 1 >= self.at:
            raise KeyboardInterrupt("interrupted")


def _model(k=1):
    kerax.utils.set_random_seed(5)
    m = kerax.Sequential([kerax.Input((4,)), kerax.layers.Dense(6, activation="relu"),
                          kerax.layers.Dropout(0.2), kerax.layers.Dense(1)])
    m.compile(optimizer="adam", loss="mse", metrics=["mae"], steps_per_execution=k)
    return m


def _run(make_source, tmp_path, at, k=1, epochs=2, save_freq=2):
    """Weights and history of an uninterrupted run and of an interrupted + resumed one."""
    plain = _model(k)
    h_plain = plain.fit(make_source(), epochs=epochs, verbose=0)
    with pytest.raises(KeyboardInterrupt):
        _model(k).fit(make_source(), epochs=epochs, verbose=0,
                      callbacks=[BackupAndRestore(tmp_path, save_freq=save_freq),
                                 Interrupt(at)])
    resumed = _model(k)
    h = resumed.fit(make_source(), epochs=epochs, verbose=0,
                    callbacks=[BackupAndRestore(tmp_path, save_freq=save_freq)])
    return plain, h_plain, resumed, h


def _assert_bit_exact(plain, h_plain, resumed, h):
    for a, b in zip(plain.get_weights(), resumed.get_weights()):
        assert a.tobytes() == b.tobytes()
    n = len(h.history["loss"])
    assert h.history["loss"] == h_plain.history["loss"][-n:]


@pytest.mark.parametrize("k,at", [(1, 9), (2, 10)])  # 6 batches per epoch: mid epoch 1
def test_py_dataset_resumes_mid_epoch_bit_exact(tmp_path, k, at):
    x, y = _data()
    seen = []

    class Logged(Batches):
        def __getitem__(self, i):
            seen.append(i)
            return super().__getitem__(i)

    plain, h_plain, resumed, h = _run(lambda: Logged(x, y), tmp_path, at, k)
    # The resumed run starts epoch 1 at batch 4 (the last backup), not at batch 0.
    assert len(h.history["loss"]) == 1
    _assert_bit_exact(plain, h_plain, resumed, h)


def test_py_dataset_with_workers_resumes_bit_exact(tmp_path):
    x, y = _data()
    plain, h_plain, resumed, h = _run(lambda: Batches(x, y, workers=2), tmp_path, at=8)
    _assert_bit_exact(plain, h_plain, resumed, h)


def test_py_dataset_resume_starts_at_the_next_index(tmp_path):
    x, y = _data()
    first = []

    class Logged(Batches):
        def __getitem__(self, i):
            first.append(i)
            return super().__getitem__(i)

    with pytest.raises(KeyboardInterrupt):
        _model().fit(Batches(x, y), epochs=2, verbose=0, shuffle=False,
                     callbacks=[BackupAndRestore(tmp_path, save_freq=2), Interrupt(5)])
    _model().fit(Logged(x, y), epochs=2, verbose=0, shuffle=False,
                 callbacks=[BackupAndRestore(tmp_path, save_freq=2)])
    assert first[1:5] == [4, 5, 0, 1]  # first[0] is the shape probe


def test_py_dataset_is_shuffled_by_fit_like_keras():
    """`fit(shuffle=True)` (the default) visits a PyDataset's batches in a new order each
    epoch, as Keras does; `shuffle=False` keeps index order."""
    x, y = _data()
    seen = []

    class Logged(Batches):
        def __getitem__(self, i):
            seen.append(i)
            return super().__getitem__(i)

    n = len(Batches(x, y))
    _model().fit(Logged(x, y), epochs=2, verbose=0)
    epochs = [seen[1:1 + n], seen[1 + n:1 + 2 * n]]
    assert all(sorted(e) == list(range(n)) for e in epochs)
    assert epochs[0] != list(range(n)) and epochs[0] != epochs[1]
    seen.clear()
    _model().fit(Logged(x, y), epochs=1, verbose=0, shuffle=False)
    assert seen[1:] == list(range(n))


def test_generator_resume_mid_epoch_warns(tmp_path):
    x, y = _data()

    def gen():
        while True:
            for i in range(0, 44, 8):
                yield x[i:i + 8], y[i:i + 8]

    with pytest.raises(KeyboardInterrupt):
        _model().fit(gen(), steps_per_epoch=6, epochs=2, verbose=0,
                     callbacks=[BackupAndRestore(tmp_path, save_freq=2), Interrupt(3)])
    with pytest.warns(UserWarning, match="generator cannot be rewound"):
        h = _model().fit(gen(), steps_per_epoch=6, epochs=2, verbose=0,
                         callbacks=[BackupAndRestore(tmp_path, save_freq=2)])
    assert len(h.history["loss"]) == 2


def test_resume_with_another_kind_of_input_is_an_error(tmp_path):
    x, y = _data()
    with pytest.raises(KeyboardInterrupt):
        _model().fit(Batches(x, y), epochs=2, verbose=0,
                     callbacks=[BackupAndRestore(tmp_path, save_freq=2), Interrupt(3)])
    with pytest.raises(ValueError, match="written while training on a py_dataset input, "
                                         "but this `fit` trains on arrays"):
        _model().fit(x, y, batch_size=8, epochs=2, verbose=0,
                     callbacks=[BackupAndRestore(tmp_path, save_freq=2)])
    with pytest.raises(ValueError, match="written while training on a py_dataset input, "
                                         "but this `fit` reads a iterable input"):
        _model().fit(Reiterable([(x[:8], y[:8])]), epochs=2, verbose=0,
                     callbacks=[BackupAndRestore(tmp_path, save_freq=2)])


def test_reiterable_resume_skips_trained_batches_bit_exact(tmp_path):
    x, y = _data()
    batches = [(x[i:i + 8], y[i:i + 8]) for i in range(0, 44, 8)]
    plain, h_plain, resumed, h = _run(lambda: Reiterable(batches), tmp_path, at=9)
    _assert_bit_exact(plain, h_plain, resumed, h)
