"""A REST server for `format="jax"` exports with TF Serving's contract (standard library).

`python -m kerax.serve PATH --port P [--name NAME]` serves:

- `POST /v1/models/NAME:predict` (also `/v1/models/NAME/versions/1:predict`) with
  `{"instances": [...]}` (row form) -> `{"predictions": [...]}`, or `{"inputs": ...}`
  (columnar) -> `{"outputs": ...}`, as TF Serving answers; `"signature_name"` picks an
  endpoint (default: the first, `serve`).
- `GET /v1/models/NAME` (version status) and `GET /v1/models/NAME/metadata` (signatures).

A bad request (malformed JSON, wrong shape or dtype, oversized body) gets a 400 with
`{"error": ...}`; the server keeps running. Concurrent requests are batched (up to
`max_batch_size` rows) by one worker thread, padded to a power of two so that few batch
sizes are compiled. It binds 127.0.0.1 unless told otherwise.
"""

import argparse
import http.server
import json
import queue
import re
import sys
import threading
import time

import numpy as np

from kerax.export import artifact

_ROUTE = re.compile(r"^/v1/models/([^/:]+)(?:/versions/(\d+))?(:predict|/metadata)?$")


class BadRequest(ValueError):
    """A client error: answered with 400 and `{"error": message}`."""


class _Job:
    def __init__(self, endpoint, arrays):
        self.endpoint, self.arrays = endpoint, arrays
        self.rows = arrays[0].shape[0] if arrays and arrays[0].ndim else 1
        self.done = threading.Event()
        self.result = self.error = None

    def key(self):
        return (self.endpoint.name, tuple((a.shape[1:], a.dtype.str) for a in self.arrays))


class MicroBatcher:
    """One worker thread that runs queued jobs, concatenating compatible ones."""

    def __init__(self, max_batch_size=32, batch_timeout_s=0.002):
        self.max_batch_size, self.batch_timeout_s = max_batch_size, batch_timeout_s
        self._queue, self._held = queue.Queue(), []
        self._thread = threading.Thread(target=self._loop, daemon=True, name="kerax-batcher")
        self._stopped = False
        self._thread.start()

    def run(self, endpoint, arrays, timeout=120.0):
        """Runs `endpoint` on checked inputs (batched with others); returns output leaves."""
        job = _Job(endpoint, arrays)
        self._queue.put(job)
        if not job.done.wait(timeout):
            raise TimeoutError(f"the model did not answer within {timeout} s")
        if job.error is not None:
            raise job.error
        return job.result

    def stop(self):
        self._stopped = True
        self._queue.put(None)
        self._thread.join(5)

    def _next(self, timeout):
        if self._held:
            return self._held.pop(0)
        return self._queue.get(timeout=timeout) if timeout else self._queue.get()

    def _loop(self):
        while not self._stopped:
            first = self._next(None)
            if first is None:
                return
            jobs, rows = [first], first.rows
            deadline = time.monotonic() + self.batch_timeout_s
            batchable = first.arrays and all(a.ndim for a in first.arrays)
            while batchable and rows < self.max_batch_size:
                try:
                    job = self._queue.get(timeout=max(deadline - time.monotonic(), 1e-4))
                except queue.Empty:
                    break
                if job is None:
                    self._stopped = True
                    break
                if job.key() == first.key() and rows + job.rows <= self.max_batch_size:
                    jobs.append(job)
                    rows += job.rows
                else:
                    self._held.append(job)
            self._run(jobs, rows)

    def _run(self, jobs, rows):
        try:
            endpoint = jobs[0].endpoint
            if len(jobs) == 1 and not all(a.ndim for a in jobs[0].arrays):
                outs = _leaves(endpoint.call_flat(jobs[0].arrays))
                jobs[0].result = [np.asarray(o) for o in outs]
                return
            padded = 1 << max(rows - 1, 0).bit_length()  # few compiled batch sizes
            inputs = []
            for i in range(len(jobs[0].arrays)):
                column = np.concatenate([j.arrays[i] for j in jobs])
                pad = np.zeros((padded - rows,) + column.shape[1:], column.dtype)
                inputs.append(np.concatenate([column, pad]))
            outs = [np.asarray(o) for o in _leaves(endpoint.call_flat(inputs))]
            start = 0
            for job in jobs:
                job.result = [o[start:start + job.rows] for o in outs]
                start += job.rows
        except Exception as e:  # reported to each waiting request, never kills the worker
            for job in jobs:
                job.error = e
        finally:
            for job in jobs:
                job.done.set()


def _leaves(tree):
    if isinstance(tree, dict):
        return [leaf for k in tree for leaf in _leaves(tree[k])]
    if isinstance(tree, (list, tuple)):
        return [leaf for v in tree for leaf in _leaves(v)]
    return [tree]


class ModelServer:
    """Serves a loaded export over HTTP (see the module docstring).

    Args:
        path: the export directory (`model.export(path, format="jax")`).
        name: the model name in the URLs (default: the directory's name).
        host, port: where to listen (port 0 picks a free port; see `.port`).
        max_batch_size: the most rows run together.
        max_body_bytes: larger request bodies get a 400.
        idle_timeout_s: stop after this many seconds without a request (None: never).

    Example:
    >>> import json, tempfile, os, urllib.request, numpy as np, kerax
    >>> model = kerax.Sequential([kerax.Input((2,)), kerax.layers.Dense(1)])
    >>> path = os.path.join(tempfile.mkdtemp(), "m")
    >>> model.export(path, verbose=False)
    >>> server = ModelServer(path, port=0, idle_timeout_s=60).start()
    >>> body = json.dumps({"instances": [[1.0, 2.0]]}).encode()
    >>> url = f"http://127.0.0.1:{server.port}/v1/models/m:predict"
    >>> reply = json.load(urllib.request.urlopen(url, data=body))
    >>> np.asarray(reply["predictions"]).shape
    (1, 1)
    >>> server.stop()
    """

    def __init__(self, path, name=None, host="127.0.0.1", port=8501, max_batch_size=32,
                 max_body_bytes=16 << 20, idle_timeout_s=None):
        self.loaded = artifact.load(path)
        self.name = name or str(path).rstrip("/").rsplit("/", 1)[-1]
        self.max_body_bytes, self.idle_timeout_s = max_body_bytes, idle_timeout_s
        self.batcher = MicroBatcher(max_batch_size)
        self.last_request = time.monotonic()
        self.httpd = http.server.ThreadingHTTPServer((host, port), _handler(self))
        self.httpd.daemon_threads = True
        self._threads = []

    @property
    def port(self):
        return self.httpd.server_address[1]

    def start(self):
        """Serves in background threads; returns `self` (call `stop()` when done)."""
        t = threading.Thread(target=self.httpd.serve_forever, daemon=True, name="kerax-serve")
        t.start()
        self._threads.append(t)
        if self.idle_timeout_s:
            w = threading.Thread(target=self._watch_idle, daemon=True, name="kerax-idle")
            w.start()
            self._threads.append(w)
        return self

    def serve_forever(self):
        """Serves until interrupted (or idle for `idle_timeout_s`)."""
        self.start()
        try:
            while any(t.is_alive() for t in self._threads[:1]):
                self._threads[0].join(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    def stop(self):
        """Stops listening and the batching thread."""
        if not getattr(self, "_closed", False):
            self._closed = True
            self.httpd.shutdown()
            self.httpd.server_close()
            self.batcher.stop()

    def _watch_idle(self):
        while not getattr(self, "_closed", False):
            if time.monotonic() - self.last_request > self.idle_timeout_s:
                threading.Thread(target=self.stop, daemon=True).start()
                return
            time.sleep(min(0.2, self.idle_timeout_s))

    # -------------------------------------------------------------------- routes --
    def status(self):
        return {"model_version_status": [{"version": "1", "state": "AVAILABLE",
                                          "status": {"error_code": "OK",
                                                     "error_message": ""}}]}

    def metadata(self):
        def tensors(specs):
            return {s["name"]: {"dtype": s["dtype"], "name": s["name"], "tensor_shape": {
                "dim": [{"size": str(-1 if d is None else d)} for d in s["shape"]]}}
                for s in specs}
        defs = {name: {"inputs": tensors(e.inputs), "outputs": tensors(e.outputs),
                       "method_name": "tensorflow/serving/predict"}
                for name, e in self.loaded.endpoints.items()}
        defs["serving_default"] = defs[next(iter(self.loaded.endpoints))]
        return {"model_spec": {"name": self.name, "signature_name": "", "version": "1"},
                "metadata": {"signature_def": {"signature_def": defs}}}

    def predict(self, body):
        if not isinstance(body, dict):
            raise BadRequest("The request body must be a JSON object with \"instances\" "
                             f"(row form) or \"inputs\" (columnar); received a "
                             f"{type(body).__name__}.")
        endpoint = self._endpoint(body.get("signature_name"))
        if ("instances" in body) == ("inputs" in body):
            raise BadRequest("The request must have exactly one of \"instances\" (row form) "
                             "or \"inputs\" (columnar).")
        specs = endpoint.inputs
        if "instances" in body:
            values = _columns_from_rows(body["instances"], specs)
        else:
            values = _columns(body["inputs"], specs)
        try:
            arrays = endpoint.prepare(values)  # host layers (strings) run here, per request
        except (TypeError, ValueError) as e:
            raise BadRequest(str(e)) from None
        outs = self.batcher.run(endpoint, arrays)
        names = [s["name"] for s in endpoint.outputs]
        if "inputs" in body:
            cols = {n: o.tolist() for n, o in zip(names, outs)}
            return {"outputs": cols[names[0]] if len(names) == 1 else cols}
        if len(names) == 1:
            return {"predictions": outs[0].tolist()}
        return {"predictions": [{n: o[i].tolist() for n, o in zip(names, outs)}
                                for i in range(outs[0].shape[0])]}

    def _endpoint(self, signature_name):
        endpoints = self.loaded.endpoints
        if signature_name is not None and not isinstance(signature_name, str):
            raise BadRequest(f"\"signature_name\" must be a string, received "
                             f"{type(signature_name).__name__}; this model has "
                             f"{sorted(endpoints)} (or \"serving_default\").")
        if signature_name in (None, "", "serving_default"):
            return next(iter(endpoints.values()))
        if signature_name not in endpoints:
            raise BadRequest(f"Unknown signature_name {signature_name!r}; this model has "
                             f"{sorted(endpoints)} (or \"serving_default\").")
        return endpoints[signature_name]


def _columns(inputs, specs):
    """Columnar `inputs`: one value (single input) or a dict keyed by input name."""
    if len(specs) == 1 and not isinstance(inputs, dict):
        return [inputs]
    if not isinstance(inputs, dict):
        raise BadRequest(f"\"inputs\" must be a dict keyed by input name "
                         f"{[s['name'] for s in specs]} for this model.")
    if len(specs) == 1 and set(inputs) != {specs[0]["name"]}:
        return [inputs]  # let the shape check answer
    return [_named(inputs, s["name"], specs) for s in specs]


def _named(mapping, name, specs):
    if name not in mapping:
        raise BadRequest(f"Missing input '{name}'; expected inputs "
                         f"{[s['name'] for s in specs]}, received {sorted(mapping)}.")
    return mapping[name]


def _columns_from_rows(instances, specs):
    """Row-form `instances`: a list of values (single input) or of dicts by input name."""
    if not isinstance(instances, list) or not instances:
        raise BadRequest("\"instances\" must be a non-empty list with one entry per example.")
    if len(specs) == 1 and not isinstance(instances[0], dict):
        return [instances]
    rows = []
    for i, row in enumerate(instances):
        if not isinstance(row, dict):
            raise BadRequest(f"instances[{i}] must be a dict keyed by input name "
                             f"{[s['name'] for s in specs]}, received {type(row).__name__}.")
        rows.append([_named(row, s["name"], specs) for s in specs])
    return [[row[k] for row in rows] for k in range(len(specs))]


def _handler(server):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # headers and body are two writes: with Nagle's algorithm, a keep-alive client's
        # delayed ACK held every answer ~40 ms
        disable_nagle_algorithm = True

        def log_message(self, format, *args):  # quiet by default, like TF Serving
            pass

        def _reply(self, code, payload):
            data = json.dumps(payload).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _route(self):
            server.last_request = time.monotonic()
            m = _ROUTE.match(self.path.split("?", 1)[0])
            if not m:
                return None, None
            if m.group(1) != server.name:
                self._reply(404, {"error": f"Servable not found for request: model "
                                           f"'{m.group(1)}'; this server serves "
                                           f"'{server.name}'."})
                return False, None
            if m.group(2) not in (None, "1"):
                self._reply(404, {"error": f"Version {m.group(2)} of '{server.name}' not "
                                           "found; the server has version 1."})
                return False, None
            return True, m.group(3)

        def do_GET(self):
            ok, action = self._route()
            if ok is None:
                return self._reply(404, {"error": f"Unknown path {self.path!r}."})
            if ok and action is None:
                self._reply(200, server.status())
            elif ok and action == "/metadata":
                self._reply(200, server.metadata())
            elif ok:
                self._reply(405, {"error": "Use POST for :predict."})

        def do_POST(self):
            ok, action = self._route()
            if ok is None:
                self.close_connection = True
                return self._reply(404, {"error": f"Unknown path {self.path!r}."})
            if not ok:
                self.close_connection = True
                return
            if action != ":predict":
                self.close_connection = True
                return self._reply(405, {"error": "POST is for .../NAME:predict only."})
            try:
                length = int(self.headers.get("Content-Length") or -1)
            except ValueError:
                length = -1
            if length < 0 or length > server.max_body_bytes:
                self.close_connection = True  # the body is left unread
                why = ("a Content-Length header is required" if length < 0 else
                       f"the body has {length} bytes, more than the limit of "
                       f"{server.max_body_bytes}")
                return self._reply(400, {"error": f"Request rejected: {why}."})
            raw = self.rfile.read(length)
            try:
                try:
                    body = json.loads(raw)
                except (ValueError, UnicodeDecodeError, RecursionError) as e:
                    raise BadRequest(f"The body is not valid JSON: {e}.") from None
                self._reply(200, server.predict(body))
            except BadRequest as e:
                self._reply(400, {"error": str(e)})
            except Exception as e:  # a model failure must not take the server down
                self._reply(500, {"error": f"{type(e).__name__}: {e}"})
    return Handler


def main(argv=None):
    """`python -m kerax.serve PATH [--port P] [--name NAME] [--host H] ...`."""
    parser = argparse.ArgumentParser(
        prog="python -m kerax.serve",
        description="Serve a kerax jax export with TF Serving's REST API.")
    parser.add_argument("path", help="the directory written by model.export(path)")
    parser.add_argument("--port", type=int, default=8501, help="0 picks a free port")
    parser.add_argument("--name", default=None, help="model name in the URLs "
                                                     "(default: the directory's name)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="interface to bind (default 127.0.0.1, loopback only)")
    parser.add_argument("--max-batch-size", type=int, default=32)
    parser.add_argument("--max-body-bytes", type=int, default=16 << 20)
    parser.add_argument("--idle-timeout", type=float, default=None,
                        help="exit after this many seconds without a request")
    args = parser.parse_args(argv)
    try:
        server = ModelServer(args.path, name=args.name, host=args.host, port=args.port,
                             max_batch_size=args.max_batch_size,
                             max_body_bytes=args.max_body_bytes,
                             idle_timeout_s=args.idle_timeout)
    except (ValueError, OSError) as e:  # a damaged or missing export, a port in use
        print(f"kerax.serve: cannot serve '{args.path}': {e}", file=sys.stderr)
        return 2
    print(f"Serving '{server.name}' on http://{args.host}:{server.port}/v1/models/"
          f"{server.name}", flush=True)
    sys.stdout.flush()
    server.serve_forever()
    return 0
