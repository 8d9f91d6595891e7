"""Our port of the keras.io guide "Distributed training with Keras" (the distribution API)
in its current version and in its first Keras 3 version (2023, whose cells also train),
each cell on Keras 3 and on kerax over 8 simulated CPU devices: runs distribution_guide.py
in its own process (JAX fixes the device count when it starts; see
tests/test_distribution_subprocess.py)."""

import pytest

from .distribution_guide import CELLS, CELLS_2023
from .harness import CellResult, assert_cell, cell_params, results_on_8_devices


@pytest.fixture(scope="module")
def results():
    versions = results_on_8_devices("tests.guides.distribution_guide")
    out = {}
    for version, rows in versions.items():
        out[version] = []
        for row in rows:
            for key in ("keras_where", "kerax_where"):
                row[key] = tuple(row[key]) if row[key] is not None else None
            out[version].append(CellResult(**row))
    return out


@pytest.mark.parametrize("cell", cell_params(CELLS))
def test_cell(results, cell):
    assert_cell(results["current"], CELLS, cell)


@pytest.mark.parametrize("cell", cell_params(CELLS_2023))
def test_cell_2023_version(results, cell):
    assert_cell(results["2023"], CELLS_2023, cell)
