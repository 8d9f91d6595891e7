"""Inference latency: kerax's ways to run a trained model, beside Keras 3's `predict`.

    python -m bench.inference                 # W1's MLP (784-512-512-10), one process
    python -m bench.inference --calls 100 --rounds 5
    python -m bench.inference --no-serve      # without the REST server
    python -m bench.inference --small-sizes   # compiles of predict on 1..31 examples

On one model with the same weights in kerax and Keras 3 (W1: 784-512-512-10), the median
milliseconds of one call on a batch of 1 and of 64, for: `predict` (`batch_size=len(x)`,
`verbose=0`), `predict(x, verbose=0)` (`batch_size=32`: two batches of 32 for 64 rows),
`predict` with its defaults (`batch_size=32`, `verbose="auto"`: a progress bar, written to
a string buffer), `predict_on_batch`, `model(x)` (kerax and Keras 3); a
hand-written `jax.jit` of the same math (its output copied to NumPy); the reloaded
`format="jax"` artifact (`kerax.export.load(path).serve`); onnxruntime on the
`format="onnx"` file (when jax2onnx and onnxruntime are installed); and the REST server
(`kerax.export.serving.ModelServer`, bound to 127.0.0.1, stopped at the end): requests/s
and p50/p99 latency of one-row requests from 1 client and from 8 concurrent clients.
Ways are interleaved round by round; every way's output is checked against `predict`.
Each way's time is the median of its per-round medians, ± half the range of those; "/ hand"
divides by the hand-written `jax.jit` call's time of the same round.

`--small-sizes` instead counts the XLA compilations (persistent-cache hits included) and
the seconds of a first `predict(x[:n], verbose=0)` for every n from 1 to 31 (batch_size
32), kerax and Keras 3 on fresh models, then the median milliseconds of a second pass;
run it with `KERAX_COMPILATION_CACHE=0` to time real compilations.
"""

import argparse
import concurrent.futures
import contextlib
import http.client
import io
import json
import os
import statistics
import tempfile
import time

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import jax  # noqa: E402
import numpy as np  # noqa: E402

from bench import workloads as W  # noqa: E402

BATCHES = (1, 64)


def _models():
    import keras

    import kerax

    spec = W.WORKLOADS["W1"]
    ours, theirs = W.build_model(kerax, spec), W.build_model(keras, spec)
    theirs.set_weights(ours.get_weights())
    return kerax, spec, ours, theirs


def _onnx_session(model, dirpath):
    try:
        import onnxruntime
    except ImportError:
        return None, "onnxruntime is not installed"
    try:
        model.export(os.path.join(dirpath, "m.onnx"), format="onnx", verbose=False)
    except ImportError as e:
        return None, str(e).split(" (")[0]
    options = onnxruntime.SessionOptions()
    session = onnxruntime.InferenceSession(os.path.join(dirpath, "m.onnx"), options)
    name = session.get_inputs()[0].name
    return (lambda x: session.run(None, {name: x})[0]), None


def _ways(kerax, spec, ours, theirs, dirpath):
    ours.export(os.path.join(dirpath, "jax"), verbose=False)
    reloaded = kerax.export.load(os.path.join(dirpath, "jax"))
    weights = ours.get_weights()
    params = [{"kernel": jax.numpy.asarray(k), "bias": jax.numpy.asarray(b)}
              for k, b in zip(weights[::2], weights[1::2])]
    hand = jax.jit(lambda p, x: W.forward(spec, p, x))
    ways = {
        "kerax predict": lambda x: ours.predict(x, batch_size=len(x), verbose=0),
        "Keras 3 predict": lambda x: theirs.predict(x, batch_size=len(x), verbose=0),
        "kerax predict(x, verbose=0)": lambda x: ours.predict(x, verbose=0),
        "Keras 3 predict(x, verbose=0)": lambda x: theirs.predict(x, verbose=0),
        "kerax predict(x), defaults": lambda x: _printed(ours.predict, x),
        "Keras 3 predict(x), defaults": lambda x: _printed(theirs.predict, x),
        "kerax predict_on_batch": ours.predict_on_batch,
        "Keras 3 predict_on_batch": theirs.predict_on_batch,
        "kerax model(x)": lambda x: np.asarray(ours(x)),
        "Keras 3 model(x)": lambda x: np.asarray(theirs(x)),
        "hand jax.jit(forward)": lambda x: np.asarray(hand(params, x)),
        "reloaded jax artifact .serve": lambda x: np.asarray(reloaded.serve(x)),
    }
    run_onnx, why = _onnx_session(ours, dirpath)
    if run_onnx is not None:
        ways["onnxruntime (format=\"onnx\")"] = run_onnx
    return ways, why


def _printed(predict, x):
    """`predict(x)` with its defaults; the progress bar goes to a string buffer."""
    with contextlib.redirect_stdout(io.StringIO()):
        return predict(x)


def _latencies(ways, xs, calls, rounds):
    """`{(way, batch): [median seconds per call of each round]}`, ways interleaved
    within each round."""
    times = {(k, b): [] for k in ways for b in xs}
    for k, fn in ways.items():  # warm-up (compiles), and every way agrees with predict
        for b, x in xs.items():
            want = ways["kerax predict"](x)
            for _ in range(2):  # (kerax's `model(x)` is jitted from its second call)
                np.testing.assert_allclose(np.asarray(fn(x)), want, atol=1e-4, rtol=1e-4,
                                           err_msg=k)
    for _ in range(rounds):
        for k, fn in ways.items():
            for b, x in xs.items():
                one = []
                for _ in range(calls):
                    t = time.perf_counter()
                    fn(x)
                    one.append(time.perf_counter() - t)
                times[(k, b)].append(statistics.median(one))
    return times


def _serve(kerax, dirpath, x, requests, clients):
    """REST on loopback: one-row `:predict` requests, `clients` concurrent keep-alive
    connections; returns (requests/s, p50 ms, p99 ms)."""
    from kerax.export.serving import ModelServer

    server = ModelServer(os.path.join(dirpath, "jax"), name="w1", host="127.0.0.1", port=0,
                         idle_timeout_s=600).start()
    body = json.dumps({"instances": x[:1].tolist()}).encode()
    headers = {"Content-Type": "application/json"}

    def client(n):
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        out = []
        for _ in range(n):
            t = time.perf_counter()
            conn.request("POST", "/v1/models/w1:predict", body, headers)
            reply = conn.getresponse()
            data = reply.read()
            out.append(time.perf_counter() - t)
            assert reply.status == 200, data
        conn.close()
        return out

    try:
        with concurrent.futures.ThreadPoolExecutor(clients) as pool:
            for f in [pool.submit(client, 20) for _ in range(clients)]:
                f.result()  # warm-up: compiles the batch sizes the batcher pads to
            start = time.perf_counter()
            lat = [t for f in [pool.submit(client, requests // clients)
                               for _ in range(clients)] for t in f.result()]
            wall = time.perf_counter() - start
    finally:
        server.stop()
    lat.sort()
    return len(lat) / wall, lat[len(lat) // 2] * 1e3, lat[int(len(lat) * 0.99)] * 1e3


def _small_sizes(kerax, spec):
    """`{lib: (compiles, seconds, median ms of a second pass)}` of `predict` on 1..31
    examples, each on a fresh W1 model."""
    import keras

    from kerax.trainer import compile_cache

    x = np.random.default_rng(0).standard_normal((31, spec["d"])).astype("float32")
    out = {}
    for lib in (kerax, keras):
        model = W.build_model(lib, spec)
        model.predict(x[:1], verbose=0)  # (builds the model; one row's program)
        start = time.perf_counter()
        with compile_cache.track() as stats:
            for n in range(1, 32):
                model.predict(x[:n], verbose=0)
        seconds = time.perf_counter() - start
        again = []
        for n in range(1, 32):
            t = time.perf_counter()
            model.predict(x[:n], verbose=0)
            again.append(time.perf_counter() - t)
        out[lib.__name__] = (stats.compiles, seconds, statistics.median(again) * 1e3)
    return out


def main():
    parser = argparse.ArgumentParser(prog="python -m bench.inference",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=40, help="calls per way per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=400, help="REST requests per run")
    parser.add_argument("--no-serve", action="store_true", help="leave out the REST server")
    parser.add_argument("--small-sizes", action="store_true",
                        help="count predict's compiles on 1..31 examples instead")
    args = parser.parse_args()
    kerax, spec, ours, theirs = _models()
    if args.small_sizes:
        print("\n| predict(x[:n], verbose=0), n = 1..31, fresh model | XLA compiles | "
              "seconds | second pass, median ms per call |")
        print("|---|---:|---:|---:|")
        for name, (compiles, seconds, ms) in _small_sizes(kerax, spec).items():
            print(f"| {name} | {compiles} | {seconds:.2f} | {ms:.3f} |")
        return
    rng = np.random.default_rng(0)
    xs = {b: rng.standard_normal((b, spec["d"])).astype("float32") for b in BATCHES}
    with tempfile.TemporaryDirectory() as dirpath:
        ways, onnx_missing = _ways(kerax, spec, ours, theirs, dirpath)
        times = _latencies(ways, xs, args.calls, args.rounds)
        rest = {} if args.no_serve else {
            c: _serve(kerax, dirpath, xs[1], args.requests, c) for c in (1, 8)}
    hand = "hand jax.jit(forward)"
    ms = {key: statistics.median(v) * 1e3 for key, v in times.items()}
    spread = {key: (max(v) - min(v)) / 2 * 1e3 for key, v in times.items()}
    per_hand = {(k, b): statistics.median(t / h for t, h in zip(v, times[(hand, b)]))
                for (k, b), v in times.items()}
    print(f"\n### Inference, W1 MLP 784-512-512-10: ms per call, median of {args.rounds} "
          f"rounds' medians of {args.calls} calls, ways interleaved\n")
    print("| way | batch 1 ms | ± | batch 64 ms | ± | / hand, b1 | / hand, b64 | "
          "speed vs Keras 3 predict, b1 | b64 |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for k in ways:
        a, b = ms[(k, 1)], ms[(k, 64)]
        r1, r64 = ms[("Keras 3 predict", 1)] / a, ms[("Keras 3 predict", 64)] / b
        print(f"| {k} | {a:.3f} | {spread[(k, 1)]:.3f} | {b:.3f} | {spread[(k, 64)]:.3f} | "
              f"{per_hand[(k, 1)]:.2f} | {per_hand[(k, 64)]:.2f} | {r1:.1f}x | {r64:.1f}x |")
    if onnx_missing:
        print(f"| onnxruntime (format=\"onnx\") | not run: {onnx_missing} | | | | | | | |")
    if rest:
        print("\n| REST `python -m kerax.serve`, 1-row requests on loopback | requests/s | "
              "p50 ms | p99 ms |")
        print("|---|---:|---:|---:|")
    for c, (rate, p50, p99) in rest.items():
        print(f"| {c} client{'s' if c > 1 else ''} (keep-alive) | {rate:,.0f} | {p50:.2f} | "
              f"{p99:.2f} |")
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"\njax {jax.__version__}, {os.cpu_count()} CPUs, load average {load}")


if __name__ == "__main__":
    main()
