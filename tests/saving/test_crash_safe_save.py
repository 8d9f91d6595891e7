"""A save killed with SIGKILL, or failing midway, never destroys the previous file."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import kerax
from kerax.saving import h5_store

CHILD = textwrap.dedent("""
    import sys, numpy as np, kerax
    path = sys.argv[1]
    model = kerax.Sequential([kerax.Input((768,)), kerax.layers.Dense(768), kerax.layers.Dense(768)])
    shapes = [w.shape for w in model.get_weights()]
    i = 0
    while True:
        i += 1
        model.set_weights([np.full(s, float(i), np.float32) for s in shapes])
        model.save(path)
        print(i, flush=True)
""")


def _check_consistent(path, at_least):
    model = kerax.models.load_model(path)
    weights = model.get_weights()
    value = float(weights[0].flat[0])
    assert value == int(value) and value >= at_least
    for w in weights:  # every array from the same, complete save: bit-exact
        np.testing.assert_array_equal(w, np.full(w.shape, value, np.float32))
    return value


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_sigkill_during_save_keeps_previous_file(tmp_path):
    # Three savers (4.7 MB each) run at once, each killed at a different point.
    plans = [(1, 0.0), (2, 0.02), (3, 0.07)]
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    procs = []
    for n, (saves, delay) in enumerate(plans):
        path = str(tmp_path / f"m{n}.keras")
        p = subprocess.Popen([sys.executable, "-c", CHILD, path], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, env=env, text=True)
        procs.append((p, path, saves, delay))
    for p, path, saves, delay in procs:
        seen = 0
        deadline = time.time() + 120
        while seen < saves and time.time() < deadline:
            line = p.stdout.readline()
            assert line, "the saver process exited early"
            seen = int(line)
        time.sleep(delay)
        p.send_signal(signal.SIGKILL)
        p.wait()
        assert p.returncode == -signal.SIGKILL
        _check_consistent(path, at_least=saves)
    # The next save to each path removes what the killed saves left behind.
    model = kerax.Sequential([kerax.Input((2,)), kerax.layers.Dense(1)])
    for _, path, _, _ in procs:
        model.save(path)
    assert [n for n in os.listdir(tmp_path) if n.endswith(".tmp")] == []


def test_failed_save_leaves_old_file_and_no_temp(tmp_path, monkeypatch):
    model = kerax.Sequential([kerax.Input((4,)), kerax.layers.Dense(2)])
    path = str(tmp_path / "w.weights.h5")
    model.save_weights(path)
    before = open(path, "rb").read()

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(h5_store, "write_model", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        model.save_weights(path)
    with pytest.raises(RuntimeError, match="disk full"):
        model.save(str(tmp_path / "m.keras"))
    assert open(path, "rb").read() == before
    assert sorted(os.listdir(tmp_path)) == ["w.weights.h5"]
