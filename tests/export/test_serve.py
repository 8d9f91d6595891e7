"""`python -m kerax.serve`: TF Serving's REST contract on loopback, over a jax export.

Servers run in-process on port 0 (a free port) with an idle timeout as a safety net, and
the fixture always stops them; one test starts the command line as a subprocess.
"""

import concurrent.futures
import http.client
import json
import os
import pathlib
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import numpy as np
import pytest

import kerax
from kerax import layers
from kerax.export.serving import MicroBatcher, ModelServer, main

ATOL = 1e-6


@pytest.fixture
def served(tmp_path):
    """`(server, model)` for a multi-input, multi-output model; stopped afterwards."""
    a, b = kerax.Input((3,), name="a"), kerax.Input((2,), name="b")
    h = layers.Dense(4, activation="relu")(layers.Concatenate()([a, b]))
    model = kerax.Model({"a": a, "b": b}, {"y1": layers.Dense(1)(h), "y2": layers.Dense(2)(h)})
    model.export(tmp_path / "two", verbose=False)
    server = ModelServer(tmp_path / "two", port=0, idle_timeout_s=120, max_body_bytes=4096)
    server.start()
    yield server, model
    server.stop()


@pytest.fixture
def single(tmp_path):
    model = kerax.Sequential([kerax.Input((3,)), layers.Dense(2)])
    model.export(tmp_path / "one", verbose=False)
    server = ModelServer(tmp_path / "one", name="mlp", port=0, idle_timeout_s=120,
                         max_batch_size=8).start()
    yield server, model
    server.stop()


def _post(server, body, name=None, raw=None):
    name = name or server.name
    data = raw if raw is not None else json.dumps(body).encode()
    req = urllib.request.Request(
        f"http://127.0.0.1:{server.port}/v1/models/{name}:predict", data=data)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)


def _get(server, suffix=""):
    url = f"http://127.0.0.1:{server.port}/v1/models/{server.name}{suffix}"
    with urllib.request.urlopen(url, timeout=60) as r:
        return json.load(r)


def test_row_and_columnar_forms_match_predict(served):
    server, model = served
    rng = np.random.default_rng(0)
    x = {"a": rng.normal(size=(3, 3)).astype("float32"),
         "b": rng.normal(size=(3, 2)).astype("float32")}
    expected = model.predict(x, verbose=0)
    rows = [{"a": x["a"][i].tolist(), "b": x["b"][i].tolist()} for i in range(3)]
    code, reply = _post(server, {"instances": rows})
    assert code == 200
    got = reply["predictions"]
    assert len(got) == 3 and set(got[0]) == {"y1", "y2"}
    for k in ("y1", "y2"):
        np.testing.assert_allclose([r[k] for r in got], expected[k], atol=ATOL, rtol=ATOL)
    code, reply = _post(server, {"inputs": {k: v.tolist() for k, v in x.items()}})
    assert code == 200
    for k in ("y1", "y2"):
        np.testing.assert_allclose(reply["outputs"][k], expected[k], atol=ATOL, rtol=ATOL)


def test_single_input_single_output(single):
    server, model = single
    x = np.arange(6, dtype="float32").reshape(2, 3) / 10
    code, reply = _post(server, {"instances": x.tolist()})
    assert code == 200
    np.testing.assert_allclose(reply["predictions"], model.predict(x, verbose=0),
                               atol=ATOL, rtol=ATOL)
    code, reply = _post(server, {"inputs": x.tolist(), "signature_name": "serving_default"})
    np.testing.assert_allclose(reply["outputs"], model.predict(x, verbose=0),
                               atol=ATOL, rtol=ATOL)


def test_status_and_metadata(served):
    server, _ = served
    assert _get(server)["model_version_status"][0]["state"] == "AVAILABLE"
    meta = _get(server, "/metadata")
    assert meta["model_spec"]["name"] == "two"
    sig = meta["metadata"]["signature_def"]["signature_def"]["serving_default"]
    assert sig["inputs"]["a"]["tensor_shape"]["dim"] == [{"size": "-1"}, {"size": "3"}]
    assert set(sig["outputs"]) == {"y1", "y2"}


@pytest.mark.parametrize("body, match", [
    ({"instances": [[1.0, 2.0]]}, r"expected shape \(None, 3\).*received \(1, 2\)"),
    ({"instances": [["a", "b", "c"]]}, r"expected dtype float32, received str"),
    ({"instances": [[1.0, 2.0, 3.0], [1.0]]}, r"ragged"),
    ({"instances": []}, r"non-empty list"),
    ({"rows": [[1.0, 2.0, 3.0]]}, r"exactly one of \"instances\""),
    ([1, 2], r"must be a JSON object"),
    ({"inputs": [[1.0, 2.0, 3.0]], "signature_name": "nope"}, r"Unknown signature_name"),
    ({"inputs": [[1.0, 2.0, 3.0]], "signature_name": ["serve"]},
     r"\"signature_name\" must be a string, received list"),
    ({"inputs": [[1.0, 2.0, 3.0]], "signature_name": {"a": 1}}, r"must be a string"),
    ({"instances": [[1.0, None, 3.0]]}, r"expected dtype float32, received object"),
    ({"instances": [[[1.0, 2.0, 3.0]]]}, r"expected shape \(None, 3\).*received \(1, 1, 3\)"),
])
def test_bad_requests_get_400_and_the_server_keeps_serving(single, body, match):
    server, _ = single
    code, reply = _post(server, body)
    assert code == 400
    assert re.search(match, reply["error"]), reply["error"]
    assert _post(server, {"instances": [[1.0, 2.0, 3.0]]})[0] == 200


def test_malformed_json_oversized_body_and_unknown_model(served):
    server, _ = served
    code, reply = _post(server, None, raw=b"{not json")
    assert code == 400 and "not valid JSON" in reply["error"]
    code, reply = _post(server, None, raw=b"[" + b"0," * 4000 + b"0]")
    assert code == 400 and "more than the limit of 4096" in reply["error"]
    code, reply = _post(server, {"instances": [[1.0]]}, name="other")
    assert code == 404 and "'other'" in reply["error"]
    code, reply = _post(server, {"instances": [{"a": [1.0, 2.0, 3.0]}]})
    assert code == 400 and "Missing input 'b'" in reply["error"]
    rows = [{"a": [0.1, 0.2, 0.3], "b": [0.4, 0.5]}]
    assert _post(server, {"instances": rows})[0] == 200


def test_deeply_nested_json_gets_400_and_the_server_keeps_serving(single):
    server, _ = single
    code, reply = _post(server, None, raw=b"[" * 100_000 + b"]" * 100_000)
    assert code == 400 and "not valid JSON" in reply["error"], reply
    assert _post(server, {"instances": [[1.0, 2.0, 3.0]]})[0] == 200


def test_command_line_refuses_a_damaged_export_with_its_reason(tmp_path, capsys):
    model = kerax.Sequential([kerax.Input((3,)), layers.Dense(2)])
    model.export(tmp_path / "m", verbose=False)
    (tmp_path / "m" / "variables.npz").write_bytes(b"damaged")
    assert main([str(tmp_path / "m"), "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert re.search(r"kerax.serve: cannot serve .*the file 'variables.npz' has sha256 .*"
                     r"Export the model again", err), err


def test_concurrent_requests_are_batched_and_answered_in_order(single):
    server, model = single
    calls = []
    real = server.loaded.serve.call_flat
    server.loaded.endpoints["serve"].call_flat = lambda arrays: (
        calls.append(arrays[0].shape[0]) or real(arrays))
    xs = [np.full((1, 3), i / 10, "float32") for i in range(16)]
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        replies = list(pool.map(lambda x: _post(server, {"instances": x.tolist()}), xs))
    for x, (code, reply) in zip(xs, replies):
        assert code == 200
        np.testing.assert_allclose(reply["predictions"], model.predict(x, verbose=0),
                                   atol=ATOL, rtol=ATOL)
    assert sum(calls) >= 16 and max(calls) <= 8  # never past max_batch_size
    assert all(n & (n - 1) == 0 for n in calls)  # padded to powers of two


def test_micro_batcher_concatenates_compatible_jobs():
    class Endpoint:
        name = "serve"
        seen = []

        def call_flat(self, arrays):
            self.seen.append(arrays[0].shape[0])
            return arrays[0] * 2

    batcher = MicroBatcher(max_batch_size=8, batch_timeout_s=0.5)
    try:
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            futs = [pool.submit(batcher.run, Endpoint(), [np.full((1, 2), i, "float32")])
                    for i in range(4)]
            outs = [f.result(timeout=60) for f in futs]
    finally:
        batcher.stop()
    for i, out in enumerate(outs):
        np.testing.assert_array_equal(out[0], np.full((1, 2), 2 * i))
    assert sum(Endpoint.seen) >= 4 and len(Endpoint.seen) < 4  # some jobs ran together


def test_binds_loopback_by_default(single):
    server, _ = single
    assert server.httpd.server_address[0] == "127.0.0.1"


def test_idle_timeout_stops_the_server(tmp_path):
    model = kerax.Sequential([kerax.Input((3,)), layers.Dense(2)])
    model.export(tmp_path / "m", verbose=False)
    server = ModelServer(tmp_path / "m", port=0, idle_timeout_s=0.3).start()
    try:
        deadline = time.monotonic() + 30
        while not getattr(server, "_closed", False) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server._closed
    finally:
        server.stop()


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_command_line_serves_and_exits_when_idle(tmp_path):
    model = kerax.Sequential([kerax.Input((3,)), layers.Dense(2)])
    model.export(tmp_path / "m", verbose=False)
    port = _free_port()
    env = dict(os.environ, PYTHONPATH=str(pathlib.Path(__file__).parents[2]))
    proc = subprocess.Popen(
        [sys.executable, "-m", "kerax.serve", str(tmp_path / "m"), "--port", str(port),
         "--name", "mlp", "--idle-timeout", "20"], stdout=subprocess.PIPE, env=env)
    try:
        line = proc.stdout.readline().decode()
        assert f"127.0.0.1:{port}/v1/models/mlp" in line
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request("POST", "/v1/models/mlp:predict",
                     json.dumps({"instances": [[1.0, 2.0, 3.0]]}))
        reply = json.load(conn.getresponse())
        np.testing.assert_allclose(reply["predictions"],
                                   model.predict(np.array([[1.0, 2.0, 3.0]]), verbose=0),
                                   atol=ATOL, rtol=ATOL)
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        proc.stdout.close()
