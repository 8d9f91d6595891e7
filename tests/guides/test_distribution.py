"""Our port of the keras.io guide "Distributed training with Keras" (the distribution API), each cell on
Keras 3 and on kerax over 8 simulated CPU devices: runs distribution_guide.py in its own process
(JAX fixes the device count when it starts; see tests/test_distribution_subprocess.py)."""

import json
import os
import subprocess
import sys

import pytest

from .distribution_guide import CELLS
from .harness import CellResult, assert_cell, cell_params

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

@pytest.fixture(scope="module")
def results():
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=8",
               KERAS_BACKEND="jax")
    proc = subprocess.run([sys.executable, "-m", "tests.guides.distribution_guide"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0 and "\nRESULTS " in proc.stdout, \
        (proc.stdout + proc.stderr)[-4000:]
    rows = json.loads(proc.stdout.split("\nRESULTS ", 1)[1])
    out = []
    for row in rows:
        for key in ("keras_where", "kerax_where"):
            row[key] = tuple(row[key]) if row[key] is not None else None
        out.append(CellResult(**row))
    return out


@pytest.mark.parametrize("cell", cell_params(CELLS))
def test_cell(results, cell):
    assert_cell(results, CELLS, cell)
