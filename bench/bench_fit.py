"""kerax `fit` vs a hand-written JAX loop vs Keras 3, on the same work, in one run.

    python -m bench.bench_fit            # all workloads
    python -m bench.bench_fit --quick    # fewer repeats

Workloads (random data, Adam, softmax cross-entropy from logits):
  W1  MLP 784-512-512-10, batch 128, 60,000 examples per epoch
  W4  Dense(10) on 32 features, batch 32, 2,000 steps per epoch
Ways: kerax `fit` (default steps_per_execution="auto"), a hand-written `jax.jit` step
called once per batch, the same step fused with `lax.scan` over the epoch (the floor),
and Keras 3 `fit` (JAX backend; default, and steps_per_execution=32).
Prints examples/s (median of the repeats, after a warm-up epoch) and ratios to the floor.
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402

WORKLOADS = {
    "W1 MLP 784-512-512-10 b128": dict(d=784, hidden=(512, 512), classes=10, batch=128,
                                       n=60_000),
    "W4 Dense(10) 32 feats b32": dict(d=32, hidden=(), classes=10, batch=32, n=64_000),
}


def data(spec, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((spec["n"], spec["d"])).astype("float32")
    y = rng.integers(0, spec["classes"], spec["n"]).astype("int32")
    return x, y


def _init_params(spec, key):
    sizes = (spec["d"],) + spec["hidden"] + (spec["classes"],)
    params = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        lim = np.sqrt(6 / (a + b))
        params.append({"kernel": jax.random.uniform(jax.random.fold_in(key, i), (a, b),
                                                    minval=-lim, maxval=lim),
                       "bias": jnp.zeros(b)})
    return params


def _forward(params, x):
    for layer in params[:-1]:
        x = jax.nn.relu(x @ layer["kernel"] + layer["bias"])
    return x @ params[-1]["kernel"] + params[-1]["bias"]


def _loss(params, x, y):
    logits = _forward(params, x)
    return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()


def hand_written(spec, x, y, epochs, fused):
    tx = optax.adam(1e-3, eps=1e-7)
    params = _init_params(spec, jax.random.PRNGKey(0))
    opt_state = tx.init(params)
    b = spec["batch"]
    steps = spec["n"] // b
    xb = jnp.asarray(x[:steps * b].reshape(steps, b, -1))
    yb = jnp.asarray(y[:steps * b].reshape(steps, b))

    def step(carry, batch):
        params, opt_state = carry
        loss, grads = jax.value_and_grad(_loss)(params, *batch)
        updates, opt_state = tx.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), loss

    if fused:
        run = jax.jit(lambda c, xs, ys: jax.lax.scan(step, c, (xs, ys)), donate_argnums=0)
    else:
        one = jax.jit(step, donate_argnums=0)

    times = []
    carry = (params, opt_state)
    for _ in range(epochs + 1):
        t = time.perf_counter()
        if fused:
            carry, losses = run(carry, xb, yb)
        else:
            for i in range(steps):
                carry, losses = one(carry, (xb[i], yb[i]))
        jax.block_until_ready(carry)
        times.append(time.perf_counter() - t)
    return [steps * b / t for t in times[1:]]


class _Timer:
    def __init__(self):
        self.times = []

    def make(self, base):
        timer = self

        class T(base):
            def on_epoch_begin(self, epoch, logs=None):
                self.t = time.perf_counter()

            def on_epoch_end(self, epoch, logs=None):
                timer.times.append(time.perf_counter() - self.t)

        return T()


def kerax_fit(spec, x, y, epochs):
    import kerax

    layers = [kerax.Input((spec["d"],))]
    layers += [kerax.layers.Dense(h, activation="relu") for h in spec["hidden"]]
    layers += [kerax.layers.Dense(spec["classes"])]
    model = kerax.Sequential(layers)
    model.compile(optimizer=kerax.optimizers.Adam(1e-3),
                  loss=kerax.losses.SparseCategoricalCrossentropy(from_logits=True))
    timer = _Timer()
    model.fit(x, y, batch_size=spec["batch"], epochs=epochs + 1, shuffle=False, verbose=0,
              callbacks=[timer.make(kerax.callbacks.Callback)])
    return [spec["n"] / t for t in timer.times[1:]]


def keras_fit(spec, x, y, epochs, steps_per_execution=1):
    import keras

    layers = [keras.Input((spec["d"],))]
    layers += [keras.layers.Dense(h, activation="relu") for h in spec["hidden"]]
    layers += [keras.layers.Dense(spec["classes"])]
    model = keras.Sequential(layers)
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  steps_per_execution=steps_per_execution)
    timer = _Timer()
    model.fit(x, y, batch_size=spec["batch"], epochs=epochs + 1, shuffle=False, verbose=0,
              callbacks=[timer.make(keras.callbacks.Callback)])
    return [spec["n"] / t for t in timer.times[1:]]


WAYS = {
    "kerax fit": kerax_fit,
    "hand jit/step": lambda s, x, y, e: hand_written(s, x, y, e, fused=False),
    "hand scan (floor)": lambda s, x, y, e: hand_written(s, x, y, e, fused=True),
    "Keras 3 fit": keras_fit,
    "Keras 3 fit spe=32": lambda s, x, y, e: keras_fit(s, x, y, e, 32),
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--workload", default=None)
    args = parser.parse_args()
    epochs = 2 if args.quick else 3
    print(f"jax {jax.__version__}, backend {jax.default_backend()}, "
          f"{jax.device_count()} device(s), {os.cpu_count()} CPU cores")
    for name, spec in WORKLOADS.items():
        if args.workload and args.workload not in name:
            continue
        x, y = data(spec)
        results = {}
        for way, fn in WAYS.items():
            rates = fn(spec, x, y, epochs)
            results[way] = (statistics.median(rates), (max(rates) - min(rates)) / 2)
        floor = results["hand scan (floor)"][0]
        keras_default = results["Keras 3 fit"][0]
        print(f"\n{name}")
        print(f"{'way':<22}{'examples/s':>14}{'±':>10}{'/ floor':>10}{'/ Keras':>10}")
        for way, (rate, spread) in results.items():
            print(f"{way:<22}{rate:>14,.0f}{spread:>10,.0f}{rate / floor:>10.2f}"
                  f"{rate / keras_default:>10.2f}")


if __name__ == "__main__":
    main()
