"""Text classification on raw strings: how much the host-side prefix costs `fit`.

    python -m bench.text                  # 40k strings, 3 epochs
    python -m bench.text --n 10000 --epochs 2
    python -m bench.text --vs-tf          # vectorizing speed against Keras 3 on TensorFlow

`--vs-tf` needs TensorFlow and Keras 3 importable next to kerax (never install TensorFlow
into kerax's environment: use a throwaway one and put kerax's dependencies on its path,
e.g. `PYTHONPATH=<kerax's site-packages> /tmp/tfenv/bin/python -m bench.text --vs-tf`).
It times kerax and Keras-on-TF on the same strings in one process, interleaved, and
checks that their outputs are equal.

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


def make_prose(n, seed=0, length=24):
    """`n` sentences of English-like words (1 to 20 letters, some capitalized or with
    punctuation): tokens longer than 8 and 16 bytes, as real text has."""
    rng = np.random.default_rng(seed)
    letters = np.array(list("etaoinshrdlucmfwypvbgkjqxz"))
    sizes = np.minimum(rng.geometric(0.17, 8000), 20)
    words = ["".join(rng.choice(letters, k)) for k in sizes]
    words = [w.capitalize() if i % 7 == 0 else w + ",.!?"[i % 4] if i % 5 == 0 else w
             for i, w in enumerate(words)]
    words = np.array(words)
    idx = np.minimum(rng.zipf(1.2, (n, length)) - 1, len(words) - 1)
    return np.array([" ".join(r) for r in words[idx]])


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


def _best(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def vs_tensorflow(repeats=3, batch_size=256):
    """Strings per second of kerax's and Keras-on-TF's string layers, interleaved."""
    os.environ["KERAS_BACKEND"] = "tensorflow"
    import keras
    import kerax

    print(f"Keras {keras.__version__} on {keras.backend.backend()}; kerax from "
          f"{os.path.dirname(kerax.__file__)}")
    print("| corpus | layer | batch | kerax strings/s | TF strings/s | kerax / TF |")
    print("|---|---|---:|---:|---:|---:|")
    ratios = {}
    for corpus, make in (("w1234", make_strings), ("prose", make_prose)):
        adapt_x, x = (make(100000, seed=s, length=12) for s in (1, 2))
        if corpus == "w1234":
            adapt_x, x = adapt_x[0], x[0]  # (without the labels)
        cases = [("int", None, x), ("int", batch_size, x[:20000]),  # (dense encodings of
                 ("multi_hot", None, x[:5000]), ("multi_hot", batch_size, x[:20000]),  # 5k
                 ("tf_idf", None, x[:5000]), ("tf_idf", batch_size, x[:20000]),  # strings)
                 ("StringLookup", None, np.array(" ".join(x[:20000]).split()))]
        for mode, size, data in cases:
            if mode == "StringLookup":
                vocab = list(dict.fromkeys(" ".join(adapt_x[:2000]).split()))
                ours, theirs = (m.layers.StringLookup(vocabulary=vocab) for m in (kerax, keras))
                label = "StringLookup (tokens/s)"
            else:
                kwargs = dict(max_tokens=20000, output_mode=mode)
                if mode == "int":
                    kwargs["output_sequence_length"] = 16
                ours, theirs = (m.layers.TextVectorization(**kwargs) for m in (kerax, keras))
                ours.adapt(adapt_x)
                theirs.adapt(adapt_x)
                label = f"TextVectorization {mode}"
            chunks = [data] if size is None else [data[i:i + size]
                                                  for i in range(0, len(data), size)]
            kerax_s, tf_s = [], []
            for _ in range(repeats):  # (only the last outputs kept: dense encodings are big)
                kerax_out = tf_out = None
                seconds, kerax_out = _best(lambda: [ours.host_call(c) for c in chunks], 1)
                kerax_s.append(seconds)
                seconds, tf_out = _best(lambda: [np.asarray(theirs(c)) for c in chunks], 1)
                tf_s.append(seconds)
            for a, b in zip(kerax_out, tf_out):
                # (tf_idf: the OOV column's mean IDF from `adapt` can differ from TF's
                # `reduce_mean` in the last bits on large vocabularies)
                np.testing.assert_allclose(a, b, rtol=1e-6 if mode == "tf_idf" else 0)
            del kerax_out, tf_out
            ratio = min(tf_s) / min(kerax_s)
            ratios[(corpus, label, size)] = ratio
            print(f"| {corpus} | {label} | {size or len(data)} | {len(data) / min(kerax_s):,.0f} "
                  f"| {len(data) / min(tf_s):,.0f} | {ratio:.2f} |", flush=True)
    return ratios


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=40000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--vs-tf", action="store_true",
                        help="vectorizing speed against Keras 3 on TensorFlow")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    if args.vs_tf:
        vs_tensorflow(args.repeats)
        return
    run(args.n, args.epochs, args.batch_size)


if __name__ == "__main__":
    main()
