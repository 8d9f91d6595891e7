"""Re-runs the notebooks top to bottom and saves them with their outputs (what a reader
sees on GitHub and in Colab before running anything). Run from the repository root, on the
full path (leave KERAX_QUICK unset):

    python notebooks/run_all.py [quickstart distributed ...]

tests/test_notebooks.py checks the saved files came from one clean run, and runs each
notebook's quick path (`KERAX_QUICK=1`).
"""

import os
import pathlib
import sys

import nbclient
import nbformat

HERE = pathlib.Path(__file__).resolve().parent


def run(path):
    nb = nbformat.read(path, as_version=4)
    nbclient.NotebookClient(nb, timeout=3600, kernel_name="python3",
                            resources={"metadata": {"path": str(HERE)}}).execute()
    for cell in nb.cells:  # timings would change the file at every run
        cell.metadata.pop("execution", None)
    nbformat.write(nb, path)


if __name__ == "__main__":
    os.environ.setdefault("KERAS_BACKEND", "jax")
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(HERE.parent), os.environ.get("PYTHONPATH")) if p)
    os.environ.pop("XLA_FLAGS", None)  # as on a fresh runtime
    names = sys.argv[1:] or sorted(p.stem for p in HERE.glob("*.ipynb"))
    for name in names:
        print(f"running notebooks/{name}.ipynb", flush=True)
        run(HERE / f"{name}.ipynb")
