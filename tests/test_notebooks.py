"""The notebooks in notebooks/ run top to bottom on their quick path (`KERAX_QUICK=1`) in a
fresh Jupyter kernel, so none of them rots: nbclient raises on the first cell that fails,
and each notebook asserts its own final metric. The committed files are also checked for
what a reader on GitHub or Colab relies on: the "Open in Colab" badge pointing at the file
itself, an install cell that only runs on Colab, the quick switch, and saved outputs from
one clean run."""

import json
import os
import pathlib
import re

import pytest

_ROOT = pathlib.Path(__file__).resolve().parents[1]
_NOTEBOOKS = _ROOT / "notebooks"

# name -> marks. All three run in CI's default tier (issue: every notebook executed in CI);
# transfer_learning compiles a MobileNet three times (~90 s on 2 busy cores).
NOTEBOOKS = {
    "quickstart": (),
    "distributed": (),
    "transfer_learning": (),
}
_PARAMS = [pytest.param(name, marks=marks, id=name) for name, marks in NOTEBOOKS.items()]
_BADGE = re.compile(r"https://colab\.research\.google\.com/github/([^/]+/[^/]+)/blob/main/"
                    r"(notebooks/[\w.-]+\.ipynb)")


def _load(name):
    return json.loads((_NOTEBOOKS / f"{name}.ipynb").read_text(encoding="utf-8"))


def _code(nb):
    return [cell for cell in nb["cells"] if cell["cell_type"] == "code"]


def _source(cell):
    return "".join(cell["source"])


def test_every_notebook_is_in_the_table():
    found = sorted(path.stem for path in _NOTEBOOKS.glob("*.ipynb"))
    assert found == sorted(NOTEBOOKS), "add each notebook to NOTEBOOKS in this file"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_is_ready_for_colab(name):
    nb = _load(name)
    badges = _BADGE.findall(_source(nb["cells"][0]))
    assert badges and badges[0][1] == f"notebooks/{name}.ipynb", (
        "the first cell needs an 'Open in Colab' badge linking to this notebook")
    install = _source(_code(nb)[0])
    assert 'if "google.colab" in sys.modules:' in install and "pip" in install
    repo = re.search(r'KERAX_REPO = "https://github\.com/([^"]+)"', install)
    assert repo and repo.group(1) == badges[0][0], "the badge and the install cell disagree"
    assert any('os.environ.get("KERAX_QUICK") == "1"' in _source(c) for c in _code(nb))


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_is_saved_with_the_outputs_of_one_clean_run(name):
    cells = _code(_load(name))
    assert [cell["execution_count"] for cell in cells] == list(range(1, len(cells) + 1)), (
        "re-run the notebook top to bottom (python notebooks/run_all.py) before committing")
    outputs = [out for cell in cells for out in cell["outputs"]]
    assert outputs and not [out for out in outputs if out["output_type"] == "error"]


@pytest.mark.parametrize("name", _PARAMS)
def test_notebook_runs_on_its_quick_path(name, monkeypatch):
    nbclient = pytest.importorskip("nbclient")
    nbformat = pytest.importorskip("nbformat")
    pytest.importorskip("ipykernel")
    monkeypatch.setenv("KERAX_QUICK", "1")
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    # This checkout's kerax, and a fresh runtime's XLA flags (the distributed notebook
    # asks for 8 simulated CPU devices itself).
    path = os.pathsep.join(p for p in (str(_ROOT), os.environ.get("PYTHONPATH")) if p)
    monkeypatch.setenv("PYTHONPATH", path)
    monkeypatch.delenv("XLA_FLAGS", raising=False)
    nb = nbformat.read(_NOTEBOOKS / f"{name}.ipynb", as_version=4)
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(_NOTEBOOKS)}})
    client.execute()  # raises CellExecutionError naming the cell that failed
    assert all(cell.get("execution_count") for cell in nb.cells if cell.cell_type == "code")
