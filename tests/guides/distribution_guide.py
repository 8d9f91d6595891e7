"""Our port of the keras.io guide "Distributed training with Keras" (the Keras 3
distribution API): each cell, written by us, exercises the idioms the guide's cell of the
same number teaches, on Keras 3 and on kerax over 8 simulated CPU devices.

The idioms, in the guide's order: `keras.distribution.initialize()` in a try/except
(single process: it refuses, and the guide prints why) (cell 0); `list_devices()`, a
`DeviceMesh` of shape (2, 4) named ("data", "model") and a `TensorLayout` on it
(cell 1); `DataParallel()` over all devices, `set_distribution`, `distribution()`, and a
functional model with Dropout built, compiled and summarised under it (cell 2); a
`LayoutMap` whose keys shard `d1`'s kernel and bias on "model" and `d2`'s output on
"data", `ModelParallel(layout_map=..., batch_dim_name="data")` and a Sequential built
and summarised under it (cell 3). One added variant (kept last so test ids follow the
guide): the same `LayoutMap` with keys that match the variables' full paths.

The guide's cells build models but do not run them; each check here also gives kerax
Keras' weights and compares `predict` on one batch, the layout each variable ends up
with (mesh axes and devices), and what the cell printed (summaries included).

Keras 3.15 matches `LayoutMap` keys against the whole variable path (`re.fullmatch`), so
the guide's keys "d1/kernel" and "d1/bias" match nothing in a model named "sequential"
(paths "sequential/d1/kernel", ...) and both libraries leave the weights replicated;
the added variant shards them for real.

JAX fixes its device count when it starts, so this runs as a script in its own process
(`python -m tests.guides.distribution_guide`, with
`XLA_FLAGS=--xla_force_host_platform_device_count=8`), started by test_distribution.py;
it prints the results as one JSON line.
"""

import dataclasses
import json
import os
import sys
import warnings

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax  # noqa: E402
import numpy as np  # noqa: E402

jax.config.update("jax_default_matmul_precision", "highest")

from .harness import Cell, Sync, _compare_printed, _printed, close, run_guide  # noqa: E402

# ports distribution, cell 0: setup; the multi-process start-up, where there is none.
SETUP = '''
import os
os.environ["KERAS_BACKEND"] = "jax"

import numpy as np
import keras
from keras import layers

try:
    keras.distribution.initialize()  # joins the other hosts' processes, if any
    print("joined the distributed job")
except Exception as reason:
    print(f"one process only: {reason}")
'''

# ports distribution, cell 1: the devices, a named 2-D mesh and a layout on it.
MESH = '''
all_devices = keras.distribution.list_devices()
print("devices:", all_devices)

grid = (2, 4) if len(all_devices) >= 8 else (len(all_devices), 1)
mesh = keras.distribution.DeviceMesh(
    shape=grid, axis_names=["data", "model"], devices=all_devices
)
print("mesh:", mesh)

# Tensor axis 0 over the "model" mesh axis, tensor axis 1 over "data".
model_by_data = keras.distribution.TensorLayout(axes=("model", "data"), device_mesh=mesh)
print("layout:", model_by_data)
'''

# ports distribution, cell 2: data parallelism over every device.
DATA_PARALLEL = '''
replicate = keras.distribution.DataParallel()  # all local devices on one "batch" axis
keras.distribution.set_distribution(replicate)
print("distribution:", keras.distribution.distribution())

images = layers.Input(shape=(28, 28, 1))
h = layers.Flatten()(images)
h = layers.Dense(units=48, activation="relu")(h)
h = layers.Dropout(0.3)(h)
probs = layers.Dense(units=10, activation="softmax")(h)
model = keras.Model(inputs=images, outputs=probs)
model.compile(loss="mse", optimizer="adam")
model.summary()
'''

# ports distribution, cell 3: model parallelism described by a LayoutMap.
MODEL_PARALLEL = '''
plan = keras.distribution.LayoutMap(mesh)
plan["d1/kernel"] = (None, "model")  # split d1's units over the "model" axis
plan["d1/bias"] = ("model",)
plan["d2/output"] = ("data", None)  # d2's output rows over "data"

split_model = keras.distribution.ModelParallel(layout_map=plan, batch_dim_name="data")
keras.distribution.set_distribution(split_model)
print("distribution:", keras.distribution.distribution())

model = keras.Sequential(
    [
        layers.Input(shape=(784,)),
        layers.Dense(64, activation="relu", name="d1"),
        layers.Dense(10, activation="softmax", name="d2"),
    ]
)
model.summary()
'''

# An added variant of cell 3: keys that match the full variable paths, so d1 is split.
MODEL_PARALLEL_FULL_PATHS = MODEL_PARALLEL.replace(
    'plan["d1/kernel"]', 'plan[".*d1/kernel"]').replace('plan["d1/bias"]', 'plan[".*d1/bias"]')

BATCH = np.random.default_rng(3).random((16, 28, 28, 1)).astype("float32")


def check_setup(k, x):
    assert len(jax.devices()) == 8
    assert x["__out__"] == k["__out__"], (x["__out__"], k["__out__"])


def check_mesh(k, x):
    assert x["all_devices"] == k["all_devices"]
    km, xm = k["mesh"], x["mesh"]
    assert (tuple(xm.shape), list(xm.axis_names)) == (tuple(km.shape), list(km.axis_names))
    assert np.asarray(xm.devices).tolist() == np.asarray(km.devices).tolist()
    assert x["model_by_data"].axes == k["model_by_data"].axes
    printed = _compare_printed(_printed(k["__out__"]), _printed(x["__out__"]))
    assert not printed, printed


def _layout(variable):
    """(mesh axis names and sizes, PartitionSpec, devices) of a variable's value."""
    sharding = variable.value.sharding
    mesh = getattr(sharding, "mesh", None)
    spec = tuple(sharding.spec) if hasattr(sharding, "spec") else None
    axes = dict(mesh.shape) if mesh is not None else None
    return axes, spec, len(sharding.device_set)


def _same_predictions_and_layouts(k, x, batch):
    printed = _compare_printed(_printed(k["__out__"]), _printed(x["__out__"]))
    assert not printed, printed
    km, xm = k["model"], x["model"]
    assert [w.path for w in xm.weights] == [w.path for w in km.weights]
    want = km.predict(batch, batch_size=len(batch), verbose=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = xm.predict(batch, batch_size=len(batch), verbose=0)
    close(got, want, 1e-5, "predict")
    # Keras lays each variable out when it is made; kerax when the model first runs.
    for kw, xw in zip(km.weights, xm.weights):
        assert _layout(xw) == _layout(kw), (kw.path, _layout(xw), _layout(kw))
    return [str(w.message) for w in caught]


def check_data_parallel(k, x):
    assert type(x["replicate"]).__name__ == "DataParallel"
    assert x["replicate"].batch_dim_name == k["replicate"].batch_dim_name
    _same_predictions_and_layouts(k, x, BATCH)


def check_model_parallel(k, x):
    assert x["split_model"].batch_dim_name == "data"
    messages = _same_predictions_and_layouts(k, x, BATCH.reshape(16, 784))
    # kerax says that the guide's keys match nothing (Keras leaves them unused silently).
    assert any("'d1/kernel' matches no parameter" in m for m in messages), messages


def check_model_parallel_full_paths(k, x):
    _same_predictions_and_layouts(k, x, BATCH.reshape(16, 784))
    kernel = [w for w in x["model"].weights if w.path.endswith("d1/kernel")][0]
    assert _layout(kernel)[1] == (None, "model")


CELLS = [
    Cell(SETUP, check=check_setup),
    Cell(MESH, check=check_mesh),
    Cell(DATA_PARALLEL, Sync("model"), check=check_data_parallel),
    Cell(MODEL_PARALLEL, Sync("model"), check=check_model_parallel),
    Cell(MODEL_PARALLEL_FULL_PATHS, Sync("model"), check=check_model_parallel_full_paths),
]


def main():
    import keras

    results = run_guide("distribution", CELLS, None, None, keras)
    rows = [dataclasses.asdict(res) for res in results]
    sys.stdout.write("\nRESULTS " + json.dumps(rows, default=str) + "\n")


if __name__ == "__main__":
    main()
