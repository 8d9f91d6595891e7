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

`CELLS_2023` ports the guide's first Keras 3 version (2023), in the same way: a mesh from
`jax.devices()` and two `TensorLayout`s; `DataParallel(devices=...)` and over a 1-D mesh,
then `fit` and `evaluate` on a `tf.data` pipeline (the offline stand-in); `ModelParallel`
from a `LayoutMap` that shards a functional model's "d1" kernel, then `fit` and
`evaluate`; meshes of shapes (8, 1) to (1, 8). Dropout makes training random, so the
histories compare by structure; then kerax gets Keras' trained weights, and the two
`evaluate`s and the variables' layouts must agree.

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

from .harness import (Cell, Sync, _compare_printed, _printed, close, history_like,
                      run_guide)  # noqa: E402

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


# ---------------------------------------------------------------------------------------
# The guide's first Keras 3 version (2023), whose cells also train and evaluate under each
# distribution. Its ModelParallel cell passes `layout_map` positionally, which Keras 3.15
# refuses (the argument is keyword-only); our port passes it by keyword, as the current
# guide does, and its check asserts that both libraries refuse the positional form.

# ports distribution (2023 version), cell 0: setup.
V1_SETUP = """
import os
os.environ["KERAS_BACKEND"] = "jax"

import jax
import numpy as np
import keras
from keras import layers
from tensorflow import data as tf_data  # input pipelines only
"""

# ports distribution (2023 version), cell 1: a 2-D mesh over the devices and two layouts.
V1_MESH = """
devices = jax.devices()  # the guide takes 8 GPUs; here 8 simulated CPU devices

mesh = keras.distribution.DeviceMesh(
    shape=(2, 4), axis_names=["data", "model"], devices=devices
)
# A matrix laid out with its rows over "model" and its columns over "data".
layout_2d = keras.distribution.TensorLayout(axes=("model", "data"), device_mesh=mesh)
# A batch of images split over "data" on its batch axis only.
batch_layout_4d = keras.distribution.TensorLayout(
    axes=("data", None, None, None), device_mesh=mesh
)
"""

# ports distribution (2023 version), cell 2: DataParallel from devices or from a 1-D mesh,
# then fit and evaluate on a dataset.
V1_DATA_PARALLEL_A = """
data_parallel = keras.distribution.DataParallel(devices=devices)

# The same over an explicit one-axis mesh.
mesh_1d = keras.distribution.DeviceMesh(shape=(8,), axis_names=["data"], devices=devices)
data_parallel = keras.distribution.DataParallel(device_mesh=mesh_1d)

noise_images = np.random.normal(size=(64, 28, 28, 1))
noise_targets = np.random.normal(size=(64, 10))
dataset = tf_data.Dataset.from_tensor_slices((noise_images, noise_targets)).batch(16)

keras.distribution.set_distribution(data_parallel)

images = layers.Input(shape=(28, 28, 1))
h = layers.Flatten()(images)
h = layers.Dense(units=48, use_bias=False, activation="relu")(h)
h = layers.Dropout(0.3)(h)
h = layers.Dense(units=10, activation="softmax")(h)
model = keras.Model(inputs=images, outputs=h)
model.compile(loss="mse")
"""

V1_FIT = """
history = model.fit(dataset, epochs=2)
score = model.evaluate(dataset)
"""

# ports distribution (2023 version), cell 3: ModelParallel from a LayoutMap, then fit and
# evaluate on the same dataset.
V1_MODEL_PARALLEL_A = """
mesh_2d = keras.distribution.DeviceMesh(
    shape=(2, 4), axis_names=["data", "model"], devices=devices
)
layout_map = keras.distribution.LayoutMap(mesh_2d)
layout_map["d1/kernel"] = (None, "model")  # d1's units over the 4 "model" devices
layout_map["d1/bias"] = ("model",)
layout_map["d2/output"] = ("data", None)

model_parallel = keras.distribution.ModelParallel(layout_map=layout_map, batch_dim_name="data")
keras.distribution.set_distribution(model_parallel)

images = layers.Input(shape=(28, 28, 1))
h = layers.Flatten()(images)
h = layers.Dense(units=48, use_bias=False, activation="relu", name="d1")(h)
h = layers.Dropout(0.3)(h)
h = layers.Dense(units=10, activation="softmax", name="d2")(h)
model = keras.Model(inputs=images, outputs=h)
model.compile(loss="mse")  # each batch is split over the 2 "data" devices
"""

# ports distribution (2023 version), cell 4: more data- or more model-parallel meshes.
V1_MESH_SHAPES = """
meshes = {
    shape: keras.distribution.DeviceMesh(
        shape=shape, axis_names=["data", "model"], devices=devices
    )
    for shape in [(8, 1), (4, 2), (2, 4), (1, 8)]
}
"""


def check_v1_setup(k, x):
    assert x["tf_data"].Dataset is not None and len(jax.devices()) == 8


def check_v1_mesh(k, x):
    assert np.asarray(x["mesh"].devices).shape == (2, 4)
    assert [d.id for d in np.asarray(x["mesh"].devices).flat] == list(range(8))
    for name in ("layout_2d", "batch_layout_4d"):
        assert x[name].axes == k[name].axes
        assert repr(x[name]) == repr(k[name])


def _trained_then_same_evaluate(k, x):
    """Dropout makes training random: the histories compare by structure; then kerax's
    model gets Keras' trained weights and the two `evaluate`s (no dropout) must agree, as
    must each variable's layout."""
    history_like(k["model"], x["model"])
    assert np.isfinite(x["score"])
    x["model"].set_weights(k["model"].get_weights())
    close(x["model"].evaluate(x["dataset"], verbose=0),
          k["model"].evaluate(k["dataset"], verbose=0), 1e-5, "evaluate")
    for kw, xw in zip(k["model"].weights, x["model"].weights):
        assert _layout(xw) == _layout(kw), (kw.path, _layout(xw), _layout(kw))


def check_v1_data_parallel(k, x):
    assert x["data_parallel"].device_mesh.axis_names == ["data"]
    assert x["data_parallel"].batch_dim_name == k["data_parallel"].batch_dim_name
    _trained_then_same_evaluate(k, x)


def check_v1_model_parallel(k, x):
    _trained_then_same_evaluate(k, x)
    kernel = [w for w in x["model"].weights if w.path.endswith("d1/kernel")][0]
    assert _layout(kernel)[1] == (None, "model")
    # The 2023 text passes layout_map positionally: keyword-only on both libraries.
    for ns in (k, x):
        try:
            ns["keras"].distribution.ModelParallel(ns["layout_map"], batch_dim_name="data")
        except TypeError as e:
            assert "positional argument" in str(e), e
        else:
            raise AssertionError("ModelParallel(layout_map, ...) was accepted")


def check_v1_mesh_shapes(k, x):
    for shape, mesh in k["meshes"].items():
        assert x["meshes"][shape].shape == mesh.shape
        assert repr(x["meshes"][shape]) == repr(mesh)


CELLS_2023 = [
    Cell(V1_SETUP, check=check_v1_setup),
    Cell(V1_MESH, check=check_v1_mesh),
    Cell(V1_DATA_PARALLEL_A, Sync("model"), V1_FIT, check=check_v1_data_parallel),
    Cell(V1_MODEL_PARALLEL_A, Sync("model"), V1_FIT, check=check_v1_model_parallel),
    Cell(V1_MESH_SHAPES, check=check_v1_mesh_shapes),
]


def main():
    import keras

    datasets = None  # no cell loads a dataset
    rows = {}
    for version, cells in (("current", CELLS), ("2023", CELLS_2023)):
        results = run_guide(f"distribution_{version}", cells, datasets, datasets, keras)
        rows[version] = [dataclasses.asdict(res) for res in results]
    sys.stdout.write("\nRESULTS " + json.dumps(rows, default=str) + "\n")


if __name__ == "__main__":
    main()
