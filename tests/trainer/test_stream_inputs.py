"""Every batch source trains to the same weights as the array path on the same order."""

import logging

import jax
import numpy as np
import pytest

import kerax


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


class Batches(kerax.utils.PyDataset):
    def __init__(self, x, y, batch_size, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.b = x, y, batch_size

    def __len__(self):
        return -(-len(self.x) // self.b)

    def __getitem__(self, i):
        s = slice(i * self.b, (i + 1) * self.b)
        return self.x[s], self.y[s]


@pytest.fixture(scope="module")
def reference():
    x, y = _data()
    m = _model()
    h = m.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    return m.get_weights(), h.history


def _check(model, history, reference):
    for a, b in zip(model.get_weights(), reference[0]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    for key in reference[1]:
        np.testing.assert_allclose(history.history[key], reference[1][key], rtol=1e-5)


@pytest.mark.parametrize("workers", [1, 2])
def test_py_dataset(reference, workers):
    x, y = _data()
    m = _model()
    h = m.fit(Batches(x, y, 8, workers=workers), epochs=2, verbose=0, shuffle=False)
    _check(m, h, reference)


def test_generator_with_steps_per_epoch(reference):
    x, y = _data()

    def gen():
        while True:
            for i in range(0, 30, 8):
                yield x[i:i + 8], y[i:i + 8]

    m = _model()
    h = m.fit(gen(), steps_per_epoch=4, epochs=2, verbose=0)
    _check(m, h, reference)


class Reiterable:
    """Like a tf.data dataset or torch DataLoader: a fresh iterator each epoch."""

    def __init__(self, batches):
        self.batches = batches

    def __iter__(self):
        return iter(self.batches)

    def __len__(self):
        return len(self.batches)


def test_reiterable_source_and_evaluate_predict(reference):
    x, y = _data()
    batches = Reiterable([(x[i:i + 8], y[i:i + 8]) for i in range(0, 30, 8)])
    m = _model()
    h = m.fit(batches, epochs=2, verbose=0)
    _check(m, h, reference)
    np.testing.assert_allclose(m.evaluate(batches, verbose=0), m.evaluate(x, y, verbose=0),
                               rtol=1e-5)
    np.testing.assert_allclose(m.predict(Batches(x, y, 7), verbose=0),
                               m.predict(x, verbose=0), rtol=1e-5, atol=1e-6)


def test_single_use_generator_ends_the_epoch_cleanly():
    x, y = _data()
    m = _model()
    h = m.fit(((x[i:i + 8], y[i:i + 8]) for i in range(0, 30, 8)), epochs=1, verbose=0)
    assert len(h.history["loss"]) == 1


def test_uneven_batches_compile_once_after_first_epoch():
    x, y = _data(40)
    sizes = [8, 5, 8, 3, 8, 8]

    def batches():
        i = 0
        for s in sizes:
            yield x[i:i + s], y[i:i + s]
            i += s

    class Source:
        def __iter__(self):
            return batches()

    m = _model(steps_per_execution=2)
    records = []

    class Mark(kerax.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            records.append(f"--epoch {epoch}")

    class Capture(logging.Handler):
        def emit(self, record):
            records.append(record.getMessage())

    handler = Capture()
    logging.getLogger("jax").addHandler(handler)
    jax.config.update("jax_log_compiles", True)
    try:
        m.fit(Source(), epochs=3, verbose=0, callbacks=[Mark()])
    finally:
        jax.config.update("jax_log_compiles", False)
        logging.getLogger("jax").removeHandler(handler)
    later = records[records.index("--epoch 1"):]
    assert not [r for r in later if r.startswith("Compiling")], later


def test_stream_errors():
    x, y = _data()
    m = _model()
    with pytest.raises(ValueError, match="`y` must be None when `x` is a dataset"):
        m.fit(Batches(x, y, 8), y, verbose=0)
    with pytest.raises(ValueError, match="`validation_split` is only supported for NumPy"):
        m.fit(Batches(x, y, 8), validation_split=0.2, verbose=0)


def test_tf_data_dataset(reference):
    tf = pytest.importorskip("tensorflow")
    x, y = _data()
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(8)
    m = _model()
    h = m.fit(ds, epochs=2, verbose=0)
    _check(m, h, reference)
    np.testing.assert_allclose(m.predict(ds, verbose=0), m.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)


def test_batches_given_as_lists_are_read_as_tuples(reference):
    """A torch DataLoader over a TensorDataset yields `[x, y]` lists; Keras reads a list
    batch as `(x, y)`."""
    x, y = _data()
    m = _model()
    h = m.fit(Reiterable([[x[i:i + 8], y[i:i + 8]] for i in range(0, 30, 8)]), epochs=2,
              verbose=0)
    _check(m, h, reference)


def test_torch_data_loader(reference):
    torch = pytest.importorskip("torch")
    x, y = _data()
    ds = torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y))
    loader = torch.utils.data.DataLoader(ds, batch_size=8, shuffle=False)
    m = _model()
    h = m.fit(loader, epochs=2, verbose=0)
    _check(m, h, reference)
    np.testing.assert_allclose(m.evaluate(loader, verbose=0), m.evaluate(x, y, verbose=0),
                               rtol=1e-5)


def test_validation_data_may_be_a_dataset():
    x, y = _data()
    expected = _model().evaluate(x, y, verbose=0, return_dict=True)
    for train in [Batches(x, y, 8), x]:
        m = _model()
        m.compile(kerax.optimizers.SGD(0.0),
                  kerax.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
        kw = {} if train is not x else {"y": y, "batch_size": 8}
        h = m.fit(train, validation_data=Batches(x, y, 7), verbose=0, **kw)
        np.testing.assert_allclose(h.history["val_loss"], [expected["loss"]], rtol=1e-5)
    with pytest.raises(ValueError, match=r"`validation_data` must be a tuple .*or a dataset\. "
                                         r"Received a dict"):
        _model().fit(x, y, validation_data={"x": x}, verbose=0)


def test_generator_of_dicts_keyed_by_the_input_name_feeds_a_sequential_model(keras):
    """Keras feeds a single-input model a dict keyed by its input name, batch by batch."""
    rng = np.random.default_rng(0)
    batches = [({"feat": rng.standard_normal((4, 3)).astype("float32")},
                rng.standard_normal((4, 1)).astype("float32")) for _ in range(3)]
    losses, preds, weights = [], [], None
    for lib in (keras, kerax):  # Keras first: kerax starts from its weights
        model = lib.Sequential([lib.Input((3,), name="feat"), lib.layers.Dense(1)])
        model.compile(optimizer=lib.optimizers.SGD(0.1), loss="mse")
        if lib is kerax:
            model.set_weights(weights)
        weights = model.get_weights()
        losses.append(model.fit((b for b in batches), epochs=1, verbose=0,
                                steps_per_epoch=3).history["loss"])
        preds.append(model.predict((({"feat": b[0]["feat"]},) for b in batches[:2]),
                                   verbose=0))
    np.testing.assert_allclose(losses[1], losses[0], rtol=1e-5)
    np.testing.assert_allclose(preds[1], preds[0], rtol=1e-5, atol=1e-6)
