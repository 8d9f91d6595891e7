"""Train, export, reload without the model's code, and serve over TF Serving's REST API.

`model.export(path, format="jax")` writes a `jax.export` artifact (the compiled program
with a symbolic batch size, the weights beside it). `kerax.export.load(path).serve(x)`
runs it with only jax and numpy: no model code, no Keras. `python -m kerax.serve path`
answers TF Serving's REST requests (`POST /v1/models/NAME:predict` with
`{"instances": [...]}`); here the server runs as a separate process, as in production, and
the script checks that the reloaded artifact and the server both answer exactly what
`model.predict` answers.

By default the data are scikit-learn's bundled digits (offline); `--data mnist` uses
`keras.datasets.mnist`.

Run:  python examples/export_and_serve.py          (--quick: a few seconds on a CPU)
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request

import numpy as np
from sklearn.datasets import load_digits

import kerax as keras


def load_data(data):
    if data == "mnist":
        (x, y), _ = keras.datasets.mnist.load_data()
        return (x.reshape(len(x), -1) / 255.0).astype("float32"), y
    x, y = load_digits(return_X_y=True)
    return (x / 16.0).astype("float32"), y


def start_server(path, name, timeout_s=120):
    """`python -m kerax.serve` in a child process on a free port; returns (process, url)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "kerax.serve", path, "--port", "0", "--name", name,
         "--idle-timeout", "300"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + timeout_s
    for line in process.stdout:  # "Serving 'NAME' on http://127.0.0.1:PORT/v1/models/NAME"
        if line.startswith("Serving"):
            return process, line.split(" on ", 1)[1].strip()
        if time.monotonic() > deadline:
            break
    process.kill()
    raise RuntimeError(f"the server did not start: {process.stdout.read()}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few epochs, small model")
    parser.add_argument("--data", choices=["digits", "mnist"], default="digits")
    parser.add_argument("--epochs", type=int, default=None)
    args = parser.parse_args(argv)
    keras.utils.set_random_seed(0)

    x, y = load_data(args.data)
    model = keras.Sequential([
        keras.Input(shape=(x.shape[1],)),
        keras.layers.Dense(64 if args.quick else 512, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    # The first 64 rows are held out: they are the requests sent to the served model.
    requests, labels, x, y = x[:64], y[:64], x[64:], y[64:]
    model.fit(x, y, epochs=args.epochs or (15 if args.quick else 30), batch_size=64,
              verbose=2)
    expected = model.predict(requests, verbose=0)

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "digits")
        model.export(path, format="jax")

        # 1. Reload the artifact: no model code needed, any batch size.
        served = keras.export.load(path)
        np.testing.assert_allclose(np.asarray(served.serve(requests)), expected,
                                   rtol=1e-5, atol=1e-6)
        print(f"reloaded export: serve(x) matches model.predict for {len(requests)} rows")

        # 2. Serve it over HTTP from another process, as TF Serving would.
        process, url = start_server(path, "digits")
        try:
            body = json.dumps({"instances": requests.tolist()}).encode()
            request = urllib.request.Request(f"{url}:predict", data=body,
                                             headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=120) as reply:
                predictions = np.asarray(json.load(reply)["predictions"])
        finally:
            process.terminate()
            process.wait(timeout=30)
        np.testing.assert_allclose(predictions, expected, rtol=1e-5, atol=1e-6)

    classes = predictions.argmax(-1)
    accuracy = float(np.mean(classes == labels))
    print(f"REST server at {url}: predicted classes {classes[:8].tolist()}... "
          f"(labels {labels[:8].tolist()}...), equal to model.predict")
    print(f"served accuracy on the {len(requests)} held-out requests: {accuracy:.4f}")
    assert accuracy >= 0.8, f"the served model should classify the requests ({accuracy})"
    return accuracy


if __name__ == "__main__":
    main()
