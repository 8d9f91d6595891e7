"""Text classification on raw strings: how much the host-side prefix costs `fit`.

    python -m bench.text                  # 40k strings, 3 epochs
    python -m bench.text --n 10000 --epochs 2

The model is raw strings -> TextVectorization(20k tokens, 32 per sequence) -> Embedding(64)
-> GlobalAveragePooling1D -> Dense(1), trained with `fit` on a NumPy string array (the
TextVectorization runs on the host, in the input pipeline) and, for comparison, the same
layers after the TextVectorization trained on the pre-vectorized int array. Reported:
examples/s of each (epochs 2.. only: the first compiles), and the device's idle fraction
in the raw-string run: the time the compiled step waits for the host prefix over the
whole run (an array input is vectorized once, before the first step; a stream batch by
batch in the prefetch thread, overlapped with the step).

Keras 3 cannot run TextVectorization without TensorFlow (and `fit` on a NumPy string
array needs the TF backend), so there is no Keras column; `bench/RESULTS.md` gives
TensorFlow's own vectorizing speed on the same strings for scale.
"""

import argparse
import os
import time

os.environ.setdefault("KERAS_BACKEND", "jax")

import numpy as np  # noqa: E402


def make_strings(n, seed=0, length=24):
    """`n` random sentences over a 5000-word vocabulary, and 0/1 labels."""
    rng = np.random.default_rng(seed)
    words = np.array([f"w{i}" for i in range(5000)] + ["The", "Cat!", "dog,", "sat."])
    idx = rng.integers(0, len(words), (n, length))
    x = np.array([" ".join(r) for r in words[idx]])
    return x, (idx[:, 0] % 2).astype("float32")


def _model(kerax, vectorizer=None):
    layers = kerax.layers
    body = [layers.Embedding(20000, 64), layers.GlobalAveragePooling1D(),
            layers.Dense(1, activation="sigmoid")]
    model = kerax.Sequential(([vectorizer] if vectorizer is not None else []) + body)
    model.compile(optimizer="adam", loss="binary_crossentropy")
    return model


def run(n, epochs, batch_size):
    import kerax

    x, y = make_strings(n)
    tv = kerax.layers.TextVectorization(max_tokens=20000, output_sequence_length=32)
    start = time.perf_counter()
    tv.adapt(x)
    adapt_s = time.perf_counter() - start
    start = time.perf_counter()
    ints = tv.host_call(x)
    prefix_s = time.perf_counter() - start  # what `fit` runs before its first step

    raw, pre = _model(kerax, tv), _model(kerax)
    rows = {}
    for name, model, data in (("raw strings", raw, x), ("pre-vectorized ints", pre, ints)):
        model.fit(data[:batch_size * 2], y[:batch_size * 2], epochs=1,
                  batch_size=batch_size, verbose=0)  # compile
        start = time.perf_counter()
        model.fit(data, y, epochs=epochs, batch_size=batch_size, verbose=0)
        rows[name] = time.perf_counter() - start
    idle = prefix_s / rows["raw strings"]
    print(f"n={n} epochs={epochs} batch={batch_size}: adapt {adapt_s:.2f} s, "
          f"vectorize {n / prefix_s:,.0f} strings/s")
    print("| input | fit s | examples/s | device idle |")
    print("|---|---:|---:|---:|")
    for name, seconds in rows.items():
        share = f"{idle:.0%}" if name == "raw strings" else "0%"
        print(f"| {name} | {seconds:.2f} | {n * epochs / seconds:,.0f} | {share} |")
    return rows, idle


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=40000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128)
    args = parser.parse_args(argv)
    run(args.n, args.epochs, args.batch_size)


if __name__ == "__main__":
    main()
