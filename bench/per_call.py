"""Fixed cost of a `fit` / `evaluate` / `predict` call, and the cost of exact batch hooks.

    python -m bench.per_call              # kerax and Keras 3, interleaved, one process
    python -m bench.per_call --calls 100

1. **Per call.** Loops that call `fit(epochs=1)` again and again (active learning, GANs
   written the Keras way, tuners) pay a fixed cost per call before the first step. On an
   already-compiled W4 model (Dense(10) on 32 features), one batch per call, the median
   wall time of a call is almost all of that fixed cost.
2. **Exact callbacks.** With `steps_per_execution` left at "auto", a callback that
   overrides a batch hook sees every batch, as in Keras; without one, "auto" fuses steps.
   The epoch time of W1 and W4 (quick sizes) with a no-op `on_train_batch_end` callback,
   relative to no callback, shows what exactness costs.
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

from bench import workloads as W  # noqa: E402


def _libs():
    import keras

    import kerax

    return {"kerax": kerax, "Keras 3": keras}


def _median_seconds(fn, calls):
    fn()  # warm: compiles
    fn()
    times = []
    for _ in range(calls):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def per_call(calls):
    spec = W.WORKLOADS["W4"]
    x, y = W.make_data(spec, spec["batch"])
    rows = {}
    for name, lib in _libs().items():
        model = W.compile_model(lib, W.build_model(lib, spec), spec)
        rows[name] = {
            "fit(epochs=1)": _median_seconds(
                lambda: model.fit(x, y, batch_size=spec["batch"], epochs=1, verbose=0,
                                  shuffle=False), calls),
            "evaluate": _median_seconds(
                lambda: model.evaluate(x, y, batch_size=spec["batch"], verbose=0), calls),
            "predict": _median_seconds(
                lambda: model.predict(x, batch_size=spec["batch"], verbose=0), calls),
            "train_on_batch": _median_seconds(lambda: model.train_on_batch(x, y), calls),
        }
    print("\n### Per-call cost, W4 model, one batch of 32 per call (median ms)\n")
    print("| call | kerax | Keras 3 | kerax / Keras |")
    print("|---|---:|---:|---:|")
    for call in rows["kerax"]:
        a, b = rows["kerax"][call] * 1e3, rows["Keras 3"][call] * 1e3
        print(f"| {call} | {a:.2f} | {b:.2f} | {a / b:.2f} |")


def exact_callbacks(repeats):
    print("\n### Exact batch hooks: epoch seconds with a no-op on_train_batch_end callback\n")
    print("| workload | lib | no callback s | with batch hook s | cost |")
    print("|---|---|---:|---:|---:|")
    for wname in ("W1", "W4"):
        spec = W.WORKLOADS[wname]
        x, y = W.make_data(spec, spec["quick_n"])
        for name, lib in _libs().items():
            class Hook(lib.callbacks.Callback):
                def on_train_batch_end(self, batch, logs=None):
                    pass

            model = W.compile_model(lib, W.build_model(lib, spec), spec)

            def epoch(cbs):
                t = time.perf_counter()
                model.fit(x, y, batch_size=spec["batch"], epochs=1, verbose=0,
                          shuffle=False, callbacks=cbs)
                return time.perf_counter() - t

            epoch([]), epoch([Hook()])  # compile both
            plain, hooked = [], []
            for _ in range(repeats):  # interleaved
                plain.append(epoch([]))
                hooked.append(epoch([Hook()]))
            a, b = statistics.median(plain), statistics.median(hooked)
            print(f"| {wname} | {name} | {a:.3f} | {b:.3f} | {b / a:.2f}x |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    per_call(args.calls)
    exact_callbacks(args.repeats)


if __name__ == "__main__":
    main()
