"""The use-case examples in examples/ run end to end on their `--quick` path: each script
trains, prints its final metric and asserts that the metric is reasonable, so a non-zero
exit code means an example broke (an API it uses changed, or it stopped learning)."""

import os
import pathlib
import subprocess
import sys

import pytest

_ROOT = pathlib.Path(__file__).resolve().parents[1]


def _run(script, *args):
    env = dict(os.environ, KERAS_BACKEND="jax")
    result = subprocess.run(
        [sys.executable, str(_ROOT / "examples" / script), "--quick", *args],
        cwd=_ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, (
        f"examples/{script} --quick exited with {result.returncode}:\n"
        f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result.stdout


@pytest.mark.slow
def test_timeseries_lstm():
    out = _run("timeseries_lstm.py")
    assert "test MAE:" in out


@pytest.mark.slow
def test_autoencoder():
    out = _run("autoencoder.py")
    assert "of the noise removed" in out


@pytest.mark.slow
def test_vae():
    out = _run("vae.py")
    assert "test negative ELBO:" in out


def test_text_classification():
    out = _run("text_classification.py")
    assert "test accuracy:" in out


@pytest.mark.slow
def test_resume_training():
    out = _run("resume_training.py")
    assert "the resumed weights equal the uninterrupted run's" in out
