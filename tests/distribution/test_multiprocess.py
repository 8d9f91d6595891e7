"""Two local processes joined by `jax.distributed` (gloo collectives on 127.0.0.1)."""

import os
import socket
import subprocess
import sys
import time

import jax
import numpy as np

import kerax
from kerax import distribution as kd
from kerax.checkpoint import CheckpointManager

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _start(mode, out_dir):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=2",
               PYTHONUNBUFFERED="1")
    return [subprocess.Popen(
        [sys.executable, "-m", "tests.distribution.multiprocess_driver", str(rank), str(port),
         mode, str(out_dir)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True) for rank in range(2)]


def _check_streams_split(tmp_path):
    """Stream inputs are split across processes: process r keeps batches r, r+2, ...; the
    global batch of a step is two consecutive 8-row batches, i.e. single-device training
    on the rows in order with batch 16."""
    streams = [np.load(tmp_path / f"streams_rank{r}.npz") for r in range(2)]
    # (index 0 is also read once by every process, to learn the batch structure)
    assert set(streams[0]["fetched"].tolist()) == {0, 2, 4, 6, 8, 10}
    assert set(streams[1]["fetched"].tolist()) == {0, 1, 3, 5, 7, 9, 11}
    rng = np.random.default_rng(0)
    x = rng.normal(size=(96, 16)).astype("float32")
    y = rng.normal(size=(96, 8)).astype("float32")
    for name in ("py_dataset", "generator"):
        np.testing.assert_array_equal(streams[0][f"{name}_kernel"], streams[1][f"{name}_kernel"])
        kd.set_distribution(None)
        model = kerax.Sequential([kerax.Input((16,)), kerax.layers.Dense(8)])
        model.compile(optimizer="sgd", loss="mse")
        model.set_weights([streams[0][f"{name}_initial"], np.zeros(8, np.float32)])
        history = model.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=False)
        np.testing.assert_allclose(streams[0][f"{name}_loss"], history.history["loss"],
                                   rtol=1e-5)
        np.testing.assert_allclose(streams[0][f"{name}_kernel"], model.get_weights()[0],
                                   rtol=1e-5, atol=1e-6)


def test_two_processes_train_data_parallel_to_identical_params(tmp_path):
    """Epoch 1 is backed up by both ranks; a fresh model on each rank restores the backup
    and trains epoch 2: identical params on both ranks, equal to uninterrupted training."""
    procs = _start("train", tmp_path)
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err[-3000:]
    assert not (tmp_path / "backup").exists()  # deleted once, when the resumed fit ended
    sharded, _ = CheckpointManager(tmp_path / "sharded").restore()  # written by 2 processes
    np.testing.assert_array_equal(sharded["w"], np.arange(32, dtype=np.float32).reshape(8, 4))
    # A ModelParallel model (kernels split over processes): one whole .keras file, written
    # by process 0 after every process gathered, equal to what each rank's get_weights saw.
    loaded = kerax.saving.load_model(tmp_path / "model_parallel.keras")
    for r in range(2):
        seen = np.load(tmp_path / f"model_parallel_rank{r}.npz")
        for i, w in enumerate(loaded.get_weights()):
            np.testing.assert_array_equal(w, seen[f"arr_{i}"])
    _check_streams_split(tmp_path)
    ranks = [np.load(tmp_path / f"rank{r}.npz") for r in range(2)]
    for name in ranks[0].files:
        np.testing.assert_array_equal(ranks[0][name], ranks[1][name])
    # Each process trains on its half of the data: a global batch of 16 is 8 rows from
    # each half, which is single-device training on the rows in this order.
    rng = np.random.default_rng(0)
    x = rng.normal(size=(96, 16)).astype("float32")
    y = rng.normal(size=(96, 8)).astype("float32")
    order = np.concatenate([np.r_[8 * j:8 * j + 8, 48 + 8 * j:48 + 8 * j + 8]
                            for j in range(6)])
    kd.set_distribution(None)
    model = kerax.Sequential([kerax.Input((16,)), kerax.layers.Dense(32, activation="relu"),
                              kerax.layers.Dense(8)])
    model.compile(optimizer="adam", loss="mse")
    initial = np.load(tmp_path / "initial.npz")
    model.set_weights([initial[f"arr_{i}"] for i in range(4)])
    first = model.fit(x[order], y[order], batch_size=16, epochs=1, verbose=0, shuffle=False)
    saved = kerax.Sequential([kerax.Input((16,)), kerax.layers.Dense(32, activation="relu"),
                              kerax.layers.Dense(8)])
    saved.load_weights(tmp_path / "epoch1.weights.h5")  # ModelCheckpoint, from rank 0
    for got, want in zip(saved.get_weights(), model.get_weights()):
        np.testing.assert_allclose(got, want, atol=1e-5, rtol=1e-5)
    second = model.fit(x[order], y[order], batch_size=16, epochs=1, verbose=0, shuffle=False)
    np.testing.assert_allclose(ranks[0]["loss"], first.history["loss"] +
                               second.history["loss"], rtol=1e-5)
    for i, want in enumerate(model.get_weights()):
        np.testing.assert_allclose(ranks[0][f"arr_{i}"], want, atol=1e-5, rtol=1e-5)


def test_killed_rank_makes_the_other_fail_fast_with_a_clear_error(tmp_path):
    procs = _start("wait", tmp_path)
    try:
        lines = iter(procs[0].stdout.readline, "")  # gloo logs to stdout too
        assert any(line.strip() == "ready" for line in lines), "rank 0 ended before training"
        procs[1].kill()
        killed_at = time.monotonic()
        _, err = procs[0].communicate(timeout=60)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    assert procs[0].returncode != 0
    assert time.monotonic() - killed_at < 30  # heartbeat timeout is 3 s, not a hang
    # JAX words it "stopped sending heartbeats" or "heartbeat timeout", by timing.
    assert "heartbeat" in err, err[-3000:]
    # The last backup committed before the kill loads here, in one process.
    tree, metadata = CheckpointManager(tmp_path / "backup").restore()
    params = {k: v for k, v in tree.items() if k.startswith("params/")}
    assert sorted(a.shape for a in params.values()) == [(8,), (16, 32), (32,), (32, 8)]
    for a in params.values():
        assert len(a.sharding.device_set) == 1 and np.isfinite(np.asarray(a)).all()
    assert metadata["epoch"] >= 0 and jax.process_count() == 1
