"""`model.quantize("int8")` on the CPU: file size and `predict` latency, kerax vs Keras 3.

    python -m bench.quantize                 # MLP 784-512-512-10, 30 repeats
    python -m bench.quantize --repeats 10

One process builds the same MLP (the same float32 weights) in kerax and in Keras 3, and
copies of both quantized to int8. For each it reports the `.keras` file size, kerax's
`model.export(format="jax")` artifact size, and the median wall time of `predict` at batch
1 and 64 (after a warm-up call; the ways interleaved within each repeat, spread =
(max - min) / 2 of the repeats), kerax's pure `apply` under `jax.jit` at batch 64 (the
compute without `predict`'s loop), and each model's largest deviation from the float32
predictions (the float32 outputs' standard deviation is printed below the table).
"""

import argparse
import os
import pathlib
import statistics
import tempfile
import time

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402


def _mlp(lib):
    return lib.Sequential([lib.Input((784,)), lib.layers.Dense(512, activation="relu"),
                           lib.layers.Dense(512, activation="relu"), lib.layers.Dense(10)])


def _size(path):
    path = pathlib.Path(path)
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _models():
    import keras
    import kerax

    rng = np.random.default_rng(0)
    reference = _mlp(keras)
    weights = [rng.normal(scale=0.05, size=w.shape).astype("float32")
               for w in reference.get_weights()]
    models = {}
    for lib, label in ((kerax, "kerax"), (keras, "Keras 3")):
        for mode in ("float32", "int8"):
            model = _mlp(lib)
            model.set_weights(weights)
            if mode == "int8":
                model.quantize("int8")
            models[f"{label} {mode}"] = model
    return models


def _time_predict(model, x, batch):
    start = time.perf_counter()
    model.predict(x, batch_size=batch, verbose=0)
    return time.perf_counter() - start


def _apply_timer(model, x):
    """Times kerax's pure `apply` under `jax.jit` (no `predict` loop around it)."""
    import jax

    step = jax.jit(lambda v, x: model.apply(v, x)[0])
    variables = model.variables
    step(variables, x).block_until_ready()

    def timed():
        start = time.perf_counter()
        step(variables, x).block_until_ready()
        return time.perf_counter() - start
    return timed


def run(repeats):
    models = _models()
    rng = np.random.default_rng(1)
    inputs = {1: rng.normal(size=(1, 784)).astype("float32"),
              64: rng.normal(size=(64, 784)).astype("float32")}
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, model in models.items():
            path = os.path.join(tmp, name.replace(" ", "_") + ".keras")
            model.save(path)
            row = {"keras_file": _size(path)}
            if name.startswith("kerax"):
                export = os.path.join(tmp, name.replace(" ", "_") + "_export")
                model.export(export, format="jax", verbose=False)
                row["export"] = _size(export)
            rows[name] = row
    reference = np.asarray(models["kerax float32"].predict(inputs[64], verbose=0))
    rows["_std"] = float(reference.std())
    for name, model in models.items():
        rows[name]["max_dev"] = float(np.abs(
            np.asarray(model.predict(inputs[64], verbose=0)) - reference).max())
        for batch, x in inputs.items():
            _time_predict(model, x, batch)  # warm-up: compile
    appliers = {name: _apply_timer(model, inputs[64]) for name, model in models.items()
                if name.startswith("kerax")}
    times = {(name, b): [] for name in models for b in inputs}
    times.update({(name, "apply"): [] for name in appliers})
    for _ in range(repeats):
        for batch, x in inputs.items():
            for name, model in models.items():
                times[(name, batch)].append(_time_predict(model, x, batch))
        for name, timed in appliers.items():
            times[(name, "apply")].append(timed())
    for (name, batch), ts in times.items():
        rows[name][f"b{batch}"] = (statistics.median(ts), (max(ts) - min(ts)) / 2)
    return rows


def table(rows):
    lines = ["| model | .keras file | jax export | predict b1 (ms) | predict b64 (ms) | "
             "jit apply b64 (ms) | max dev. from float32 |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for name, row in rows.items():
        if name == "_std":
            continue
        export = f"{row['export'] / 1e6:.2f} MB" if "export" in row else "-"
        b1, b64 = row["b1"], row["b64"]
        apply = row.get("bapply")
        apply = f"{apply[0] * 1e3:.3f} ± {apply[1] * 1e3:.3f}" if apply else "-"
        lines.append(f"| {name} | {row['keras_file'] / 1e6:.2f} MB | {export} | "
                     f"{b1[0] * 1e3:.2f} ± {b1[1] * 1e3:.2f} | "
                     f"{b64[0] * 1e3:.2f} ± {b64[1] * 1e3:.2f} | {apply} | "
                     f"{row['max_dev']:.2e} |")
    lines.append(f"\nfloat32 outputs' standard deviation: {rows['_std']:.3f}")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    print(table(run(args.repeats)))


if __name__ == "__main__":
    main()
