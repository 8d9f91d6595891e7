"""16-trial hyperparameter search on scikit-learn's digits: one trial at a time vs
`search(..., population=N)`, and keras-tuner + Keras 3 running the same search.

The search space is learning rate (4 values) x dropout rate (4 values) for a
64-128-10 MLP with Adam; every trial trains `--epochs` epochs with a 20% validation split
and the objective `val_accuracy`. Each tuner walks the same 16 combinations in the same
order (a list oracle). Compile seconds come from JAX's own compile events
(`kerax.trainer.compile_cache.track`), which count Keras' JAX programs too; the
persistent compilation cache is off, so every program is compiled.

Run:  python -m bench.tuner_search [--quick] [--no-keras]
"""

import argparse
import itertools
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

LEARNING_RATES = [3e-4, 1e-3, 3e-3, 1e-2]
DROPOUTS = [0.05, 0.1, 0.25, 0.5]


def combinations():
    return [{"lr": lr, "dropout": d} for lr, d in itertools.product(LEARNING_RATES, DROPOUTS)]


def load_digits():
    from sklearn.datasets import load_digits as load
    x, y = load(return_X_y=True)
    return (x / 16.0).astype("float32"), y.astype("int32")


def make_build(lib):
    def build(hp):
        model = lib.Sequential([
            lib.Input((64,)),
            lib.layers.Dense(128, activation="relu"),
            lib.layers.Dropout(hp.Choice("dropout", DROPOUTS)),
            lib.layers.Dense(10, activation="softmax"),
        ])
        model.compile(lib.optimizers.Adam(hp.Choice("lr", LEARNING_RATES)),
                      "sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    return build


def list_oracle(kt):
    """An oracle of `kt` (kerax.tuner or keras_tuner) that hands out `combinations()`."""

    class ListOracle(kt.Oracle):
        def __init__(self):
            super().__init__(objective=kt.Objective("val_accuracy", "max"), max_trials=16,
                             seed=1)

        def populate_space(self, trial_id):
            return {"status": "RUNNING", "values": dict(combinations()[int(trial_id)])}

    return ListOracle()


def run_search(lib, kt, population, epochs, directory):
    """`(wall seconds, compile seconds, compiles, best val_accuracy)` of one search."""
    from kerax.trainer import compile_cache
    x, y = load_digits()
    tuner = kt.Tuner(oracle=list_oracle(kt), hypermodel=make_build(lib), directory=directory,
                     project_name=f"p{population}", overwrite=True)
    kwargs = {} if population is None else {"population": population}
    start = time.perf_counter()
    with compile_cache.track() as compiled:
        tuner.search(x, y, epochs=epochs, batch_size=32, validation_split=0.2, verbose=0,
                     **kwargs)
    wall = time.perf_counter() - start
    best = tuner.oracle.get_best_trials(1)[0].score
    assert len(tuner.oracle.trials) == 16, len(tuner.oracle.trials)
    return wall, compiled.seconds, compiled.compiles, best


def _keras_child(epochs):
    """Runs in a subprocess (KERAS_BACKEND=jax): keras-tuner + Keras 3."""
    import keras
    import keras_tuner
    with tempfile.TemporaryDirectory() as d:
        result = run_search(keras, keras_tuner, None, epochs, d)
    print("RESULT", *result)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 epochs per trial")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--no-keras", action="store_true")
    parser.add_argument("--keras-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    epochs = args.epochs or (3 if args.quick else 10)
    from kerax.trainer import compile_cache
    compile_cache.disable_compilation_cache()
    if args.keras_child:
        return _keras_child(epochs)

    import kerax
    import kerax.tuner as kt
    rows = []
    with tempfile.TemporaryDirectory() as d:
        for population in (None, 4, 8, 16):
            wall, compile_s, compiles, best = run_search(kerax, kt, population, epochs, d)
            name = "kerax, one at a time" if population is None else f"kerax, population={population}"
            rows.append((name, wall, compile_s, compiles, best))
            print(f"{name}: {wall:.1f} s", flush=True)
    if not args.no_keras:
        env = {**os.environ, "KERAS_BACKEND": "jax"}
        out = subprocess.run([sys.executable, "-m", "bench.tuner_search", "--keras-child",
                              "--epochs", str(epochs)], env=env, capture_output=True,
                             text=True, check=True).stdout
        line = [l for l in out.splitlines() if l.startswith("RESULT")][-1].split()[1:]
        rows.append(("keras-tuner + Keras 3 (jax)", float(line[0]), float(line[1]),
                     int(line[2]), float(line[3])))
    base = rows[0][1]
    print(f"\n16 trials x {epochs} epochs, digits MLP 64-128-10 (lr x dropout), batch 32\n")
    print("| search | wall s | vs one at a time | compile s per trial | XLA compiles | "
          "best val_accuracy |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, wall, compile_s, compiles, best in rows:
        print(f"| {name} | {wall:.1f} | {wall / base:.2f} | {compile_s / 16:.2f} | "
              f"{compiles} | {best:.4f} |")
    return rows


if __name__ == "__main__":
    main()
