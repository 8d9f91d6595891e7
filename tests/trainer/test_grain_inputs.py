"""grain `MapDataset`, `IterDataset` and `DataLoader` as fit/evaluate/predict inputs: same
weights as the array path, and an exact resume from the saved grain iterator state."""

import sys

import numpy as np
import pytest

import kerax
from kerax.callbacks.backup_and_restore import BackupAndRestore

grain = pytest.importorskip("grain")


def _data(n=30):
    rng = np.random.default_rng(1)
    return rng.standard_normal((n, 5)).astype("float32"), rng.integers(0, 3, n).astype("int32")


def _model(**kw):
    m = kerax.Sequential([kerax.Input((5,)), kerax.layers.Dense(8, activation="relu"),
                          kerax.layers.Dense(3)])
    m.set_weights([np.full(w.shape, 0.1 * (i + 1), w.dtype) for i, w in
                   enumerate(m.get_weights())])
    m.compile(kerax.optimizers.SGD(0.1),
              kerax.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=["accuracy"], **kw)
    return m


class Source:
    """A grain random-access data source of `(x, y)` examples."""

    def __init__(self, x, y):
        self.x, self.y = x, y

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i], self.y[i]

    def __repr__(self):  # grain checks a DataLoader state against repr(data_source)
        return f"Source({len(self.x)})"


def _map_dataset(x, y, batch_size=8):
    return grain.MapDataset.source(Source(x, y)).batch(batch_size)


def _loader(x, y, batch_size=8, shuffle=False):
    sampler = grain.samplers.IndexSampler(len(x), shuffle=shuffle, seed=3, num_epochs=1)
    return grain.DataLoader(data_source=Source(x, y), sampler=sampler, worker_count=0,
                            operations=[grain.transforms.Batch(batch_size)])


SOURCES = {
    "map_dataset": _map_dataset,
    "iter_dataset": lambda x, y: _map_dataset(x, y).to_iter_dataset(),
    "data_loader": _loader,
}


@pytest.fixture(scope="module")
def reference():
    x, y = _data()
    m = _model()
    h = m.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    return m, h.history


@pytest.mark.parametrize("kind", sorted(SOURCES))
def test_grain_trains_like_arrays(reference, kind):
    x, y = _data()
    m = _model()
    h = m.fit(SOURCES[kind](x, y), epochs=2, verbose=0)
    for a, b in zip(m.get_weights(), reference[0].get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(h.history["loss"], reference[1]["loss"], rtol=1e-5)


def test_grain_evaluate_and_predict(reference):
    x, y = _data()
    m = reference[0]
    np.testing.assert_allclose(m.evaluate(_map_dataset(x, y), verbose=0),
                               m.evaluate(x, y, verbose=0), rtol=1e-5)
    np.testing.assert_allclose(m.predict(_loader(x, y, 7), verbose=0),
                               m.predict(x, verbose=0), rtol=1e-5, atol=1e-6)


def test_unbatched_grain_dataset_error():
    x, y = _data()
    with pytest.raises(ValueError, match=r"each element of a grain dataset as one whole "
                                         r"batch.*batch it first: `dataset.batch"):
        _model().fit(grain.MapDataset.source(Source(x, y)), verbose=0)


class Interrupt(kerax.callbacks.Callback):
    def __init__(self, at, steps):
        super().__init__()
        self.at, self.steps, self.epoch = at, steps, 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.epoch * self.steps + batch + 1 >= self.at:
            raise KeyboardInterrupt("interrupted")


@pytest.mark.parametrize("kind", ["shuffled_map_dataset", "data_loader"])
def test_grain_resume_from_iterator_state_is_bit_exact(tmp_path, kind):
    x, y = _data(44)

    def make():  # shuffled: the saved iterator state, not a batch count, picks the rest
        if kind == "data_loader":
            return _loader(x, y, shuffle=True)
        return grain.MapDataset.source(Source(x, y)).shuffle(seed=4).batch(8)

    def model():
        kerax.utils.set_random_seed(2)
        return _model(steps_per_execution=2)

    plain = model()
    h_plain = plain.fit(make(), epochs=2, verbose=0)
    with pytest.raises(KeyboardInterrupt):
        model().fit(make(), epochs=2, verbose=0,
                    callbacks=[BackupAndRestore(tmp_path, save_freq=2), Interrupt(9, 6)])
    resumed = model()
    h = resumed.fit(make(), epochs=2, verbose=0,
                    callbacks=[BackupAndRestore(tmp_path, save_freq=2)])
    for a, b in zip(plain.get_weights(), resumed.get_weights()):
        assert a.tobytes() == b.tobytes()
    assert h.history["loss"] == h_plain.history["loss"][-1:]


def test_kerax_does_not_import_grain_for_other_inputs():
    import subprocess

    code = ("import sys, numpy as np, kerax\n"
            "m = kerax.Sequential([kerax.Input((2,)), kerax.layers.Dense(1)])\n"
            "m.compile('sgd', 'mse')\n"
            "m.fit(iter([(np.ones((4, 2)), np.ones((4, 1)))]), verbose=0)\n"
            "print('grain' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={"JAX_PLATFORMS": "cpu", "PATH": ""}, timeout=120)
    assert out.stdout.strip().splitlines()[-1] == "False", out.stderr[-2000:]
