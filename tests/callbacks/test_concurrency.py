"""Concurrency and interruption (issue 23), each behaviour as the README's "Guarantees"
states it: two processes checkpointing to one path leave one whole file (the last
rename wins), Ctrl-C during `fit` then `BackupAndRestore` resumes to the same weights as
an uninterrupted run, and `predict` from several threads on one model is safe."""

import os
import signal
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

import kerax

X = np.random.default_rng(0).normal(size=(12, 3)).astype("float32")
Y = np.random.default_rng(1).normal(size=(12, 2)).astype("float32")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _model(weights=None):
    model = kerax.Sequential([kerax.Input((3,)), kerax.layers.Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    if weights is not None:
        model.set_weights(weights)
    return model


_WRITER = textwrap.dedent("""
    import sys
    import numpy as np
    import kerax
    path, value = sys.argv[1], float(sys.argv[2])
    model = kerax.Sequential([kerax.Input((3,)), kerax.layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    cb = kerax.callbacks.ModelCheckpoint(path, save_weights_only=True, monitor="loss")
    cb.set_model(model)
    for epoch in range(15):
        model.set_weights([np.full(w.shape, value + epoch, w.dtype)
                           for w in model.get_weights()])
        cb.on_epoch_end(epoch, {"loss": 1.0})
""")


def test_two_processes_checkpointing_to_one_path_leave_one_whole_file(tmp_path):
    path = str(tmp_path / "ckpt.weights.h5")
    env = dict(os.environ, KERAS_BACKEND="jax", PYTHONPATH=ROOT, JAX_PLATFORMS="cpu")
    procs = [subprocess.Popen([sys.executable, "-c", _WRITER, path, str(v)], env=env,
                              stderr=subprocess.PIPE) for v in (100.0, 200.0)]
    for p in procs:
        assert p.wait(timeout=300) == 0, p.stderr.read().decode()[-2000:]
    model = _model()
    model.load_weights(path)  # checksums verified: a mix of two writes would be refused
    values = {float(v) for w in model.get_weights() for v in np.ravel(w)}
    assert len(values) == 1 and values.pop() in {100.0 + 14, 200.0 + 14}
    assert [f for f in os.listdir(tmp_path) if f.endswith(".tmp")] == []


class _CtrlC(kerax.callbacks.Callback):
    """Sends this process SIGINT (what Ctrl-C does) in the middle of epoch 1."""

    def on_train_batch_end(self, batch, logs=None):
        if self.epoch == 1 and batch == 1:
            os.kill(os.getpid(), signal.SIGINT)

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch


@pytest.mark.parametrize("shuffle", [False, True])
def test_ctrl_c_during_fit_then_backup_and_restore_resumes_exactly(tmp_path, shuffle):
    # shuffle=True: the backup holds the epoch's order and the NumPy RNG state the next
    # epochs' orders come from (a re-run program seeds NumPy as the first run did).
    weights = _model().get_weights()
    args = dict(batch_size=4, epochs=3, shuffle=shuffle, verbose=0)
    np.random.seed(0)
    straight = _model(weights)
    straight.fit(X, Y, **args)

    backup = str(tmp_path / "backup")
    np.random.seed(0)
    interrupted = _model(weights)
    try:
        interrupted.fit(X, Y, callbacks=[kerax.callbacks.BackupAndRestore(backup, save_freq=1),
                                         _CtrlC()], **args)
    except KeyboardInterrupt:
        pass
    else:
        raise AssertionError("SIGINT did not interrupt fit")
    assert os.path.isdir(backup)  # kept for the resume (deleted only when fit completes)

    np.random.seed(0)
    resumed = _model(weights)  # a fresh program: same initial weights, same backup dir
    history = resumed.fit(X, Y, callbacks=[kerax.callbacks.BackupAndRestore(backup,
                                                                            save_freq=1)],
                          **args)
    assert history.epoch == [1, 2]
    for a, b in zip(straight.get_weights(), resumed.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert int(resumed.optimizer.iterations) == int(straight.optimizer.iterations) == 9
    assert not os.path.exists(backup)


def test_predict_from_several_threads_on_one_model_is_safe():
    model = _model()
    inputs = [X * (i + 1) for i in range(4)]
    expected = [model.predict(x, batch_size=4, verbose=0) for x in inputs]
    results, errors = [None] * 8, []

    def work(i):
        try:
            results[i] = model.predict(inputs[i % 4], batch_size=4, verbose=0)
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for i, out in enumerate(results):
        np.testing.assert_array_equal(out, expected[i % 4])


def test_fit_or_evaluate_while_another_thread_fits_the_model_is_refused():
    model, started, release = _model(), threading.Event(), threading.Event()
    inner = []

    class Hold(kerax.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 0:
                # the fitting thread itself may evaluate inside its own fit
                inner.append(self.model.evaluate(X, Y, verbose=0))
                started.set()
                release.wait(120)

    thread = threading.Thread(
        target=lambda: model.fit(X, Y, batch_size=4, verbose=0, callbacks=[Hold()]))
    thread.start()
    try:
        assert started.wait(120)
        with pytest.raises(RuntimeError, match=r"`fit\(\)` was called on model .* while "
                                               r"another thread is running `fit\(\)`"):
            model.fit(X, Y, verbose=0)
        with pytest.raises(RuntimeError, match=r"`evaluate\(\)` was called .*\n.*one thread "
                                               r"at a time"):
            model.evaluate(X, Y, verbose=0)
        assert model.predict(X, verbose=0).shape == (12, 2)  # predict stays allowed
    finally:
        release.set()
        thread.join()
    assert len(inner) == 1
    model.fit(X, Y, verbose=0)  # free again once the other fit ended
