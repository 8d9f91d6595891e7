"""kerax `fit` vs a hand-written JAX loop vs Keras 3, on the same work: one table.

    python -m bench                  # W1-W6, 3 repeats (many minutes on 2 idle cores)
    python -m bench --quick          # fewer examples per epoch
    python -m bench --workload W1,W4 --repeats 5
    python -m bench --workload W5L   # the large transformer (for accelerators)
    python -m bench --latency        # only the inference-latency table
    python -m bench --tiny           # a dry run: every way runs, the numbers mean nothing
    bench/gpu.sh                     # everything on a GPU, written to bench/RESULTS.md

W5 (a causal transformer LM) also reports MFU: the fraction of a matmul peak measured in
the same process with a big `jnp.dot` (`--peak-dtype bfloat16` on accelerators).

Per workload and way: examples/s (median of the repeats after a warm-up epoch, ways
interleaved within each repeat, spread = (max - min) / 2), ratio to the floor (the faster
hand-written way), ratio to Keras 3's default `fit`, time to first step (model creation to
the first step's results, fresh process, cold caches; for kerax also with its persistent
compilation cache warm), and memory in that fresh process after one epoch: peak RSS
(the kernel's VmHWM, imports included; `resource.getrusage` would carry the
parent's peak across fork+exec) and the training peak (the kernel's peak-RSS mark,
reset after imports and data, minus the RSS then), compared with the hand-written loop's.
Then `evaluate` and `predict` throughput on W1.
"""

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from jax import lax  # noqa: E402

from bench import workloads as W  # noqa: E402


def _rss_mb():
    """The process' peak RSS so far (MB), from `resource.getrusage`."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _proc_status_mb(field):
    try:
        with open("/proc/self/status") as f:
            return next(int(l.split()[1]) for l in f if l.startswith(field + ":")) / 1024
    except (OSError, StopIteration):
        return float("nan")


def _reset_peak():
    """Resets the kernel's peak-RSS mark (VmHWM), so a later peak excludes the imports."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


# ------------------------------------------------------------------ one fresh process --
def probe(name, way, n):
    """In a fresh process: time to first step, then peak RSS after one epoch."""
    spec = W.WORKLOADS[name]
    if way.startswith("Keras"):
        import keras  # noqa: F401  (import before the baseline, like jax for the others)
    else:
        import kerax  # noqa: F401
    x, y = W.make_data(spec, n)
    base, import_peak = _proc_status_mb("VmRSS"), _proc_status_mb("VmHWM")
    _reset_peak()
    t = time.perf_counter()
    w = W.make_way(way, spec, x, y)
    if isinstance(w, W.Fit):
        w.watch_first_step()
        w.fit(1)
        ttfs = w.first_batch_end - t
    else:
        done = w.first_step()
        ttfs = time.perf_counter() - t
        if done < w.steps:
            w.epoch(start=done)
    # ru_maxrss would carry the parent's peak across fork+exec; VmHWM starts fresh at exec.
    peak = _proc_status_mb("VmHWM")
    return {"ttfs": ttfs, "rss": max(peak, import_peak), "rss_growth": peak - base,
            "ru_maxrss": _rss_mb()}


TINY = False  # `--tiny`: the probes' processes shrink the workloads too


def run_probe(name, way, n, env=None):
    cmd = [sys.executable, "-m", "bench", "--probe", name, way, "--n", str(n)]
    cmd += ["--tiny"] if TINY else []
    out = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **(env or {})})
    if out.returncode:
        return {"error": (out.stderr.strip().splitlines() or ["?"])[-1][:100]}
    return json.loads(out.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------- throughput --
def throughput(name, spec, n, repeats, ways):
    x, y = W.make_data(spec, n)
    built, rates, errors = {}, {w: [] for w in ways}, {}
    for way in ways:
        try:
            built[way] = W.make_way(way, spec, x, y)
            built[way].epoch()  # warm-up: compiles
        except Exception as e:  # a failing way is reported, not fatal
            errors[way] = f"{type(e).__name__}: {str(e).splitlines()[0][:90]}"
            built.pop(way, None)
    for r in range(repeats):
        order = list(built)[r % max(1, len(built)):] + list(built)[:r % max(1, len(built))]
        for way in order:
            w = built[way]
            seconds = sum(w.epoch() for _ in range(spec["reps"]))
            rates[way].append(spec["reps"] * w.examples / seconds)
    return rates, errors


def _stats(rates):
    return statistics.median(rates), (max(rates) - min(rates)) / 2


def matmul_peak(size=2048, dtype=jnp.float32, repeats=5):
    """FLOP/s of a big `jnp.dot` in this process (the best of `repeats`): the peak MFU is
    a fraction of."""
    a = jnp.ones((size, size), dtype)
    dot = jax.jit(lambda a: a @ a)
    jax.block_until_ready(dot(a))
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        jax.block_until_ready(dot(a))
        best = min(best, time.perf_counter() - t)
    return 2 * size**3 / best


def bench_workload(name, args):
    spec = W.WORKLOADS[name]
    n = spec["quick_n"] if args.quick else spec["n"]
    if args.tiny:  # a dry run of the script: two batches, the transformers shrunk
        spec = W.WORKLOADS[name] = W.tiny(spec)
        n = 2 * spec["batch"]
    ways = [w for w in W.WAYS if w not in spec.get("skip", ())] + list(spec.get("extra", ()))
    if args.ways:  # the floor and Keras' default fit are always run: the ratios need them
        wanted = set(args.ways.split(",")) | {"hand jit/step", "hand scan", "Keras 3 fit"}
        unknown = wanted - set(W.WAYS) - set(spec.get("extra", ()))
        if unknown:
            raise SystemExit(f"Unknown way(s) {sorted(unknown)}; known: {W.WAYS}")
        ways = [w for w in ways if w in wanted]
    mfu = spec["kind"] == "lm"
    peaks = [matmul_peak(dtype=args.peak_dtype)] if mfu else []
    rates, errors = throughput(name, spec, n, args.repeats, ways)
    if mfu:  # before and after: the best, as the load on a shared machine varies
        peaks.append(matmul_peak(dtype=args.peak_dtype))
    probes = {}
    if not args.no_probes:
        for way in ways:
            if way.startswith("kerax"):
                # Each kerax way starts from an empty persistent cache (the ways share
                # programs, so a shared cache would make the later ones look faster).
                with tempfile.TemporaryDirectory() as home:
                    probes[way] = run_probe(name, way, n, {"KERAX_HOME": home})
                    if way == "kerax fit":
                        warm = run_probe(name, way, n, {"KERAX_HOME": home})
                        probes[way]["ttfs_warm"] = warm.get("ttfs")
            else:
                probes[way] = run_probe(name, way, n)
    hand = [_stats(rates[w])[0] for w in ("hand jit/step", "hand scan") if rates.get(w)]
    floor = max(hand) if hand else float("nan")
    keras = _stats(rates["Keras 3 fit"])[0] if rates["Keras 3 fit"] else float("nan")
    hand_rss = [probes.get(w, {}).get("rss_growth") for w in ("hand jit/step", "hand scan")]
    hand_rss = min([r for r in hand_rss if r] or [float("nan")])
    print(f"\n### {name} {spec['title']}, batch {spec['batch']}, {n:,} examples/epoch\n")
    if mfu:
        peak = max(peaks)
        print(f"MFU: the fraction of the measured matmul peak ({peak / 1e9:,.0f} GFLOP/s, "
              f"a {jnp.dtype(args.peak_dtype).name} 2048x2048 `jnp.dot` in this process) "
              f"at {W.lm_flops_per_step(spec) / 1e9:.2f} GFLOP per step (matmuls, 3x the "
              "forward).\n")
    print("| way | examples/s | ± | / floor | / Keras | first step s | peak RSS MB "
          "| training peak MB | / hand |" + (" MFU |" if mfu else ""))
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|" + ("---:|" if mfu else ""))
    for way in ways:
        p = probes.get(way, {})
        if way in errors:
            print(f"| {way} | failed: {errors[way]} | | | | | | | |" + (" |" if mfu else ""))
            continue
        rate, spread = _stats(rates[way])
        ttfs = f"{p['ttfs']:.2f}" if "ttfs" in p else p.get("error", "-")
        if p.get("ttfs_warm") is not None:
            ttfs += f" ({p['ttfs_warm']:.2f} cached)"
        rss = f"{p['rss']:.0f}" if "rss" in p else "-"
        rel = f"{p['rss_growth'] / hand_rss:.2f}" if "rss" in p else "-"
        growth = f"{p['rss_growth']:.0f}" if "rss_growth" in p else "-"
        label = way + (" (unrolled)" if way == "hand scan" and W.has_conv(spec) else "")
        util = (f" {rate / spec['batch'] * W.lm_flops_per_step(spec) / peak:.0%} |"
                if mfu else "")
        print(f"| {label} | {rate:,.0f} | {spread:,.0f} | {rate / floor:.2f} | "
              f"{rate / keras:.2f} | {ttfs} | {rss} | {growth} | {rel} |{util}")
    sys.stdout.flush()


# --------------------------------------------------------- evaluate / predict (W1) --
def bench_inference(args):
    import keras

    import kerax

    spec = W.WORKLOADS["W1"]
    n = spec["quick_n"] if args.quick else spec["n"]
    x, y = W.make_data(spec, n)
    b = spec["batch"]
    models = {lib.__name__: W.compile_model(lib, W.build_model(lib, spec), spec)
              for lib in (kerax, keras)}
    params = W.init_params(spec, jax.random.PRNGKey(0))
    steps = n // b
    xb = jnp.asarray(x[:steps * b].reshape(steps, b, -1))
    yb = jnp.asarray(y[:steps * b].reshape(steps, b))

    @jax.jit
    def hand_evaluate(params, xb, yb):
        return lax.map(lambda xy: W.loss_fn(spec, params, *xy), (xb, yb)).mean()

    @jax.jit
    def hand_predict(params, xb):
        return lax.map(lambda xs: W.forward(spec, params, xs), xb)

    ways = {
        "kerax evaluate": lambda: models["kerax"].evaluate(x, y, batch_size=b, verbose=0),
        "Keras 3 evaluate": lambda: models["keras"].evaluate(x, y, batch_size=b, verbose=0),
        "hand evaluate (lax.map)": lambda: float(hand_evaluate(params, xb, yb)),
        "kerax predict": lambda: models["kerax"].predict(x, batch_size=b, verbose=0),
        "Keras 3 predict": lambda: models["keras"].predict(x, batch_size=b, verbose=0),
        "hand predict (lax.map)": lambda: np.asarray(hand_predict(params, xb)),
    }
    rates = {k: [] for k in ways}
    for fn in ways.values():
        fn()  # warm-up
    for _ in range(args.repeats):
        for k, fn in ways.items():
            t = time.perf_counter()
            fn()
            rates[k].append(n / (time.perf_counter() - t))
    print(f"\n### W1 evaluate / predict, batch {b}, {n:,} examples\n")
    print("| way | examples/s | ± | / hand | / Keras |")
    print("|---|---:|---:|---:|---:|")
    for k in ways:
        kind = k.split()[-1] if "hand" not in k else k.split()[1]
        hand = _stats(rates[f"hand {kind} (lax.map)"])[0]
        keras_rate = _stats(rates[f"Keras 3 {kind}"])[0]
        rate, spread = _stats(rates[k])
        print(f"| {k} | {rate:,.0f} | {spread:,.0f} | {rate / hand:.2f} | "
              f"{rate / keras_rate:.2f} |")


# --------------------------------------------------------- inference latency (W1) --
def bench_latency(args):
    """Microseconds per call on a built, warmed W1 model: `predict` on 1 and 64 examples,
    `predict_on_batch`, `model(x)`, against a hand `jax.jit` call of the same forward
    (result copied to NumPy where the Keras call returns NumPy) and Keras 3."""
    import keras

    import kerax

    spec = W.WORKLOADS["W1"]
    x, _ = W.make_data(spec, 64)
    models = {"kerax": W.build_model(kerax, spec), "Keras 3": W.build_model(keras, spec)}
    params = W.init_params(spec, jax.random.PRNGKey(0))
    hand = jax.jit(lambda p, x: W.forward(spec, p, x))
    calls = {}
    for rows in (1, 64):
        xs = x[:rows]
        calls[f"predict({rows})"] = {
            "hand": lambda xs=xs: np.asarray(hand(params, xs)),
            **{lib: (lambda m=m, xs=xs: m.predict(xs, verbose=0)) for lib, m in models.items()}}
    calls["predict_on_batch(64)"] = {
        "hand": lambda: np.asarray(hand(params, x)),
        **{lib: (lambda m=m: m.predict_on_batch(x)) for lib, m in models.items()}}
    calls["model(x) (64)"] = {
        "hand": lambda: jax.block_until_ready(hand(params, x)),
        **{lib: (lambda m=m: jax.block_until_ready(m(x))) for lib, m in models.items()}}
    per = max(20, args.calls)
    print(f"\n### Inference latency, W1 MLP (built model), µs per call, median of "
          f"{args.repeats * 3} samples of {per} calls, kerax / hand / Keras interleaved\n")
    print("| call | hand jax.jit µs | kerax µs | ± | kerax / hand | Keras 3 µs | ± | "
          "Keras / hand |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, ways in calls.items():
        samples = {w: [] for w in ways}
        for fn in ways.values():
            fn()
            fn()  # warm: compiles
        for _ in range(args.repeats * 3):
            for w, fn in ways.items():
                t = time.perf_counter()
                for _ in range(per):
                    fn()
                samples[w].append((time.perf_counter() - t) / per * 1e6)
        (h, _), (k, ks), (c, cs) = (_stats(samples[w]) for w in ("hand", "kerax", "Keras 3"))
        print(f"| {name} | {h:,.0f} | {k:,.0f} | {ks:,.0f} | {k / h:.2f} | {c:,.0f} | "
              f"{cs:,.0f} | {c / h:.2f} |")
    sys.stdout.flush()


def _machine():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            model = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    import keras
    import optax

    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    return (f"{platform.node()}: {os.cpu_count()} CPUs ({model}); load average {load}; "
            f"Python {platform.python_version()}, jax {jax.__version__} "
            f"({jax.default_backend()}), optax {optax.__version__}, keras {keras.__version__}")


def main():
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer examples per epoch")
    parser.add_argument("--workload", default="W1,W2,W3,W4,W5,W6",
                        help="e.g. W1,W4 (W5L: the transformer at an accelerator's size)")
    parser.add_argument("--tiny", action="store_true",
                        help="a dry run: two batches per epoch, small transformers (checks "
                             "that every way runs; the numbers mean nothing)")
    parser.add_argument("--results", metavar="FILE",
                        help="also append the tables to FILE (e.g. bench/RESULTS.md) under "
                             "a heading naming the machine")
    parser.add_argument("--peak-dtype", default="float32",
                        help="dtype of the matmul peak MFU is measured against")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--ways", default="",
                        help="comma-separated subset of the ways, e.g. 'kerax fit,kerax "
                             "functional fit' (the floor and Keras 3 fit always run)")
    parser.add_argument("--no-probes", action="store_true",
                        help="skip the per-way subprocesses (first step, peak RSS)")
    parser.add_argument("--no-inference", action="store_true")
    parser.add_argument("--latency", action="store_true",
                        help="only the inference-latency table")
    parser.add_argument("--calls", type=int, default=50, help="calls per latency sample")
    parser.add_argument("--probe", nargs=2, metavar=("WORKLOAD", "WAY"), help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.probe:
        if args.tiny:
            W.WORKLOADS[args.probe[0]] = W.tiny(W.WORKLOADS[args.probe[0]])
        print(json.dumps(probe(args.probe[0], args.probe[1], args.n)))
        return
    global TINY
    TINY = args.tiny
    if args.results:
        sys.stdout = _Tee(sys.stdout)
    print(_machine())
    if args.latency:
        return bench_latency(args)
    start = time.time()
    for name in args.workload.split(","):
        bench_workload(name.strip(), args)
    if not args.no_inference:
        bench_inference(args)
        bench_latency(args)
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"\n(total {time.time() - start:.0f} s; load average at the end {load})")
    if args.results:
        with open(args.results, "a") as f:
            f.write(f"\n## {time.strftime('%Y-%m-%d', time.gmtime())}: `python -m bench "
                    f"{' '.join(sys.argv[1:])}`\n\n{sys.stdout.text()}")


class _Tee:
    """stdout that also keeps what was printed (for `--results`)."""

    def __init__(self, stream):
        self.stream, self.parts = stream, []

    def write(self, text):
        self.parts.append(text)
        return self.stream.write(text)

    def flush(self):
        self.stream.flush()

    def text(self):
        return "".join(self.parts)


if __name__ == "__main__":
    main()
