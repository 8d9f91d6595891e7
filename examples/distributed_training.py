"""Data-parallel and model-parallel training on a device mesh (simulated devices on CPU).

`keras.distribution.DataParallel` splits each global batch over the mesh's `"batch"` axis
and keeps a full copy of the weights on every device; `keras.distribution.ModelParallel`
with a `LayoutMap` also shards the weights (and their optimizer state) over a `"model"`
axis. Neither changes the model or the `fit` call: the distribution is a sharding choice,
so both runs end with the weights of a single-device run (up to float rounding), which
this script checks.

Without accelerators the script asks XLA for 8 simulated CPU devices
(`--xla_force_host_platform_device_count`); on a GPU/TPU host it uses the real devices.
The data are scikit-learn's bundled digits (offline); `--data mnist` uses
`keras.datasets.mnist`.

Run:  python examples/distributed_training.py      (--quick: a few seconds on a CPU)
"""

import os

# Must be set before JAX starts; it only affects the CPU platform.
os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=8")

import argparse  # noqa: E402

import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

import kerax as keras  # noqa: E402


def load_data(data):
    if data == "mnist":
        (x, y), _ = keras.datasets.mnist.load_data()
        return (x.reshape(len(x), -1) / 255.0).astype("float32"), y
    x, y = load_digits(return_X_y=True)
    return (x / 16.0).astype("float32"), y


def train(x, y, hidden, epochs, distribution=None):
    """Builds, compiles and fits the same model (same seed) under `distribution`."""
    keras.distribution.set_distribution(distribution)
    try:
        keras.utils.set_random_seed(0)
        model = keras.Sequential([
            keras.Input(shape=(x.shape[1],)),
            keras.layers.Dense(hidden, activation="relu", name="hidden"),
            keras.layers.Dense(10, activation="softmax", name="classifier"),
        ])
        model.compile(optimizer=keras.optimizers.Adam(3e-3),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        history = model.fit(x, y, batch_size=128, epochs=epochs, shuffle=False,
                            verbose=2 if distribution is not None else 0)
        return model, history.history["accuracy"][-1]
    finally:
        keras.distribution.set_distribution(None)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few epochs, small model")
    parser.add_argument("--data", choices=["digits", "mnist"], default="digits")
    parser.add_argument("--epochs", type=int, default=None)
    args = parser.parse_args(argv)

    devices = keras.distribution.list_devices()
    print(f"{len(devices)} devices: {devices}")
    x, y = load_data(args.data)
    n = len(x) // 128 * 128  # whole global batches
    x, y = x[:n], y[:n]
    epochs = args.epochs or (8 if args.quick else 20)
    hidden = 64 if args.quick else 1024

    single, single_accuracy = train(x, y, hidden, epochs)

    data_parallel, dp_accuracy = train(x, y, hidden, epochs,
                                       keras.distribution.DataParallel(devices=devices))

    model_axis = 2 if len(devices) % 2 == 0 else 1
    mesh = keras.distribution.DeviceMesh(
        (len(devices) // model_axis, model_axis), ["batch", "model"], devices)
    layout_map = keras.distribution.LayoutMap(mesh)
    # Keys are regexes matched against whole paths such as "sequential_2/hidden/kernel".
    layout_map[".*/hidden/kernel"] = (None, "model")  # shard the hidden units
    layout_map[".*/classifier/kernel"] = ("model", None)
    model_parallel, mp_accuracy = train(
        x, y, hidden, epochs,
        keras.distribution.ModelParallel(layout_map=layout_map, batch_dim_name="batch"))

    kernel = model_parallel.get_layer("hidden").kernel.value
    print(f"model parallel: hidden/kernel {kernel.shape} is stored as "
          f"{kernel.sharding.shard_shape(kernel.shape)} shards ({kernel.sharding.spec})")
    if model_axis > 1:
        assert kernel.sharding.shard_shape(kernel.shape)[1] == hidden // model_axis
    for name, model in (("data parallel", data_parallel), ("model parallel", model_parallel)):
        for a, b in zip(model.get_weights(), single.get_weights()):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5, err_msg=name)
    print(f"final training accuracy: single device {single_accuracy:.4f}, "
          f"data parallel {dp_accuracy:.4f}, model parallel {mp_accuracy:.4f}; "
          f"the three runs end with the same weights")
    assert mp_accuracy > 0.8, f"accuracy {mp_accuracy:.4f} should be far above chance"
    return mp_accuracy


if __name__ == "__main__":
    main()
