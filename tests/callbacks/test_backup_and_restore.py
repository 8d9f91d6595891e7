"""BackupAndRestore: bit-exact resume after SIGKILL, callback state, fallbacks, errors."""

import json
import os
import subprocess
import sys

import jax
import numpy as np
import pytest

import kerax
from kerax.callbacks.backup_and_restore import BackupAndRestore
from kerax.callbacks.early_stopping import EarlyStopping
from kerax.checkpoint import CheckpointManager
from kerax.errors import CheckpointCorruptedError

HERE = os.path.dirname(__file__)


def test_sigkill_mid_epoch_then_resume_is_bit_exact(tmp_path):
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    out = subprocess.run([sys.executable, os.path.join(HERE, "resume_driver.py"),
                          str(tmp_path)], capture_output=True, text=True, env=env,
                         timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["codes"] == [-9, 0, 0]  # killed, resumed, uninterrupted
    assert not report["backup_left"]  # delete_checkpoint=True
    resumed, plain = np.load(tmp_path / "resumed.npz"), np.load(tmp_path / "plain.npz")
    assert int(resumed["epochs_run"]) == 2 and int(plain["epochs_run"]) == 3
    for name in plain.files:
        if name != "epochs_run":
            assert resumed[name].tobytes() == plain[name].tobytes(), name


def _data():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(16, 3)).astype("float32")
    return x, x.sum(1, keepdims=True)


def _model():
    model = kerax.Sequential([kerax.Input((3,)), kerax.layers.Dense(1)])
    model.compile(optimizer=kerax.optimizers.SGD(0.0), loss="mse")
    return model


class Boom(kerax.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        if epoch == 3:
            raise RuntimeError("interrupted")


def test_resumes_at_epoch_with_callback_state(tmp_path):
    x, y = _data()
    es = EarlyStopping(monitor="loss", patience=10, min_delta=1e-3)
    with pytest.raises(RuntimeError, match="interrupted"):
        _model().fit(x, y, batch_size=4, epochs=6, verbose=0,
                     callbacks=[BackupAndRestore(tmp_path), es, Boom()])
    assert es.wait == 2  # lr 0: no improvement after epoch 0
    es2 = EarlyStopping(monitor="loss", patience=10, min_delta=1e-3)
    seen = []
    log = kerax.callbacks.LambdaCallback(on_epoch_begin=lambda e, logs: seen.append(e))
    h = _model().fit(x, y, batch_size=4, epochs=6, verbose=0,
                     callbacks=[BackupAndRestore(tmp_path), es2, log])
    assert seen == [3, 4, 5] and len(h.history["loss"]) == 3
    assert es2.wait == 5 and es2.best is not None
    assert not os.path.exists(tmp_path)  # deleted after a completed fit


def test_double_checkpoint_falls_back_to_previous(tmp_path):
    x, y = _data()
    with pytest.raises(RuntimeError):
        _model().fit(x, y, batch_size=4, epochs=6, verbose=0,
                     callbacks=[BackupAndRestore(tmp_path, double_checkpoint=True), Boom()])
    mgr = CheckpointManager(tmp_path)
    assert len(mgr.all_steps()) == 2
    latest = os.path.join(mgr.step_dir(mgr.latest_step()), "metadata.json")
    with open(latest, "a") as f:
        f.write(" ")
    seen = []
    log = kerax.callbacks.LambdaCallback(on_epoch_begin=lambda e, logs: seen.append(e))
    _model().fit(x, y, batch_size=4, epochs=4, verbose=0,
                 callbacks=[BackupAndRestore(tmp_path, double_checkpoint=True), log])
    assert seen == [2, 3]  # the previous backup: after epoch 1


def test_corrupted_single_backup_raises(tmp_path):
    x, y = _data()
    with pytest.raises(RuntimeError):
        _model().fit(x, y, batch_size=4, epochs=6, verbose=0,
                     callbacks=[BackupAndRestore(tmp_path), Boom()])
    mgr = CheckpointManager(tmp_path)
    with open(os.path.join(mgr.step_dir(mgr.latest_step()), "metadata.json"), "a") as f:
        f.write(" ")
    with pytest.raises(CheckpointCorruptedError, match="metadata.json does not match"):
        _model().fit(x, y, batch_size=4, epochs=6, verbose=0,
                     callbacks=[BackupAndRestore(tmp_path)])


def test_keep_checkpoint_and_data_mismatch(tmp_path):
    x, y = _data()
    _model().fit(x, y, batch_size=4, epochs=2, verbose=0,
                 callbacks=[BackupAndRestore(tmp_path, delete_checkpoint=False)])
    assert CheckpointManager(tmp_path).all_steps() == [8]
    with pytest.raises(ValueError, match="batches of 4, but this `fit` has 16 samples in "
                                         "batches of 8"):
        _model().fit(x, y, batch_size=8, epochs=3, verbose=0,
                     callbacks=[BackupAndRestore(tmp_path)])


@pytest.mark.parametrize("kwargs, match", [
    ({"backup_dir": ""}, "Empty `backup_dir` argument passed"),
    ({"backup_dir": "d", "save_freq": "batch"}, "Invalid value for argument `save_freq`"),
])
def test_argument_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        BackupAndRestore(**kwargs)


def test_restore_pairs_layers_whose_auto_names_sort_differently(tmp_path):
    # Two constructions of one architecture: names dense_7..dense_9 in the writer, and
    # dense_8..dense_10 in the reader, where `dense_10` sorts first. Equal shapes, so a
    # positional pairing in sorted-key order would swap weights silently.
    def model(first):
        kerax.utils.set_random_seed(first)
        layers = [kerax.layers.Dense(4, name=f"dense_{first + i}") for i in range(3)]
        m = kerax.Sequential([kerax.Input((4,))] + layers)
        m.compile("adam", "mse")
        return m

    x = np.random.default_rng(0).normal(size=(16, 4)).astype("float32")
    writer = model(7)
    writer.fit(x, x, epochs=1, verbose=0,
               callbacks=[kerax.callbacks.BackupAndRestore(tmp_path, delete_checkpoint=False)])
    reader = model(8)
    reader.fit(x, x, epochs=1, verbose=0,  # restores, then has no epoch left to train
               callbacks=[kerax.callbacks.BackupAndRestore(tmp_path, delete_checkpoint=False)])
    for a, b in zip(reader.get_weights(), writer.get_weights()):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(jax.tree_util.tree_leaves(reader.optimizer.variables),
                    jax.tree_util.tree_leaves(writer.optimizer.variables)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
