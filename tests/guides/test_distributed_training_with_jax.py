"""Our port of the keras.io guide "Multi-GPU distributed training with JAX", each cell on
Keras 3 and on kerax over 8 simulated CPU devices: runs distributed_guide.py in its own process
(JAX fixes the device count when it starts; see tests/test_distribution_subprocess.py)."""

import pytest

from .distributed_guide import CELLS
from .harness import CellResult, assert_cell, cell_params, results_on_8_devices


@pytest.fixture(scope="module")
def results():
    rows = results_on_8_devices("tests.guides.distributed_guide")
    out = []
    for row in rows:
        for key in ("keras_where", "kerax_where"):
            row[key] = tuple(row[key]) if row[key] is not None else None
        out.append(CellResult(**row))
    return out


@pytest.mark.parametrize("cell", cell_params(CELLS))
def test_cell(results, cell):
    assert_cell(results, CELLS, cell)
