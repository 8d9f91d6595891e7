"""The browser (TF.js's row): a `format="onnx"` export runs in onnxruntime-web, the
WebAssembly runtime browsers use, under Node, and matches `predict` at 1e-5.

Needs jax2onnx (the `onnx` extra), `node`, and onnxruntime-web installed from the npm
registry with `npm install` in `tests/export/browser/` (or in the directory named by
`KERAX_ONNXRUNTIME_WEB`); the tests skip, saying which is missing, otherwise. The run
itself is offline: Node loads the installed package and the exported file.
"""

import importlib.util
import json
import os
import pathlib
import shutil
import subprocess

import numpy as np
import pytest

import kerax
from kerax import layers as L

ATOL = 1e-5
HERE = pathlib.Path(__file__).parent / "browser"

pytestmark = pytest.mark.slow


def _ort_web_entry():
    """The path of onnxruntime-web's Node entry, or a skip saying what is missing."""
    if importlib.util.find_spec("jax2onnx") is None:
        pytest.skip("jax2onnx (the `onnx` extra) is not installed: `pip install jax2onnx`")
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (the browser check runs onnxruntime-web in Node)")
    where = pathlib.Path(os.environ.get("KERAX_ONNXRUNTIME_WEB", HERE))
    found = subprocess.run(
        [node, "-e", "process.stdout.write(require.resolve('onnxruntime-web'))"],
        cwd=where, capture_output=True, text=True, timeout=60)
    if found.returncode != 0:
        pytest.skip(f"onnxruntime-web is not installed in '{where}': run `npm install` in "
                    f"{HERE} (or set KERAX_ONNXRUNTIME_WEB to a directory where "
                    "`npm install onnxruntime-web` was run)")
    return node, found.stdout


def _cases():
    seq = kerax.Sequential
    return {
        "dense": (lambda: seq([kerax.Input((3,)), L.Dense(4, activation="relu"),
                               L.LayerNormalization(), L.Dense(2, activation="softmax")]),
                  (3,), "float32"),
        "conv2d": (lambda: seq([kerax.Input((6, 6, 2)), L.Conv2D(3, 3, padding="same"),
                                L.BatchNormalization(), L.GlobalAveragePooling2D()]),
                   (6, 6, 2), "float32"),
        "embedding_bidirectional_lstm": (lambda: seq([
            kerax.Input((5,), dtype="int32"), L.Embedding(10, 4, mask_zero=True),
            L.Bidirectional(L.LSTM(3))]), (5,), "int32"),
    }


@pytest.mark.parametrize("name", list(_cases()))
def test_onnx_export_runs_in_onnxruntime_web(tmp_path, name):
    node, entry = _ort_web_entry()
    make, shape, dtype = _cases()[name]
    model = make()
    model.export(tmp_path / "m.onnx", format="onnx", verbose=False)
    rng = np.random.default_rng(0)
    for batch in (1, 4):  # one file, any batch (the batch dimension is symbolic)
        if dtype == "int32":
            x = rng.integers(1, 10, (batch,) + shape).astype(dtype)
            x[:, -2:] = 0  # masked padding
        else:
            x = rng.normal(size=(batch,) + shape).astype(dtype)
        inputs = {model.inputs[0].name: {"dtype": dtype, "dims": list(x.shape),
                                         "data": x.ravel().tolist()}}
        (tmp_path / "in.json").write_text(json.dumps(inputs))
        run = subprocess.run([node, str(HERE / "run_onnx.cjs"), entry, str(tmp_path / "m.onnx"),
                              str(tmp_path / "in.json"), str(tmp_path / "out.json")],
                             capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stderr
        out = json.loads((tmp_path / "out.json").read_text())["output"]
        got = np.asarray(out["data"], "float32").reshape(out["dims"])
        np.testing.assert_allclose(got, model.predict(x, verbose=0), atol=ATOL, rtol=ATOL)
