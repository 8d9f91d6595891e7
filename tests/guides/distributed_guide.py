"""Our port of the keras.io guide "Multi-GPU distributed training with JAX": each cell,
written by us, exercises the idioms the guide's cell of the same number teaches, on
Keras 3 and on kerax over 8 simulated CPU devices.

The idioms, in the guide's order: a convnet with Rescaling, BatchNormalization and
Dropout and an MNIST `tf.data` pipeline (cell 0); then `model.build`,
`optimizer.build(model.trainable_variables)`, a pure loss over `model.stateless_call`,
`jax.value_and_grad(..., has_aux=True)`, a jitted step with `optimizer.stateless_apply`,
the state replicated with `jax.device_put` on a `NamedSharding(mesh, P())`, each batch
split with `NamedSharding(mesh, P("batch"))` from `mesh_utils.create_device_mesh`,
`jax.debug.visualize_array_sharding`, the loop, and the state written back with
`variable.assign` (cell 1).

JAX fixes its device count when it starts, so this runs as a script in its own process
(`python -m tests.guides.distributed_guide`, with
`XLA_FLAGS=--xla_force_host_platform_device_count=8`), started by
test_distributed_training_with_jax.py; it prints the results as one JSON line.

Data: `keras.datasets.mnist.load_data()` gives random uint8 images of MNIST's shapes
(256 training rows: 4 global batches of 64 per epoch; 64 test rows); `tf.data` is the
offline stand-in. The model gets Keras' initial weights (`Sync`) before the loop.
"""

import dataclasses
import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax  # noqa: E402
import numpy as np  # noqa: E402

jax.config.update("jax_default_matmul_precision", "highest")

from . import standins  # noqa: E402
from .harness import Cell, Sync, close, run_guide, same_shapes  # noqa: E402

# ports distributed_training_with_jax, cell 0: imports, the model and the data.
SETUP = '''
import os
os.environ["KERAS_BACKEND"] = "jax"

import jax
import numpy as np
import keras
import tensorflow as tf  # input pipelines only
from jax.experimental import mesh_utils
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P


def make_convnet():
    images = keras.Input(shape=(28, 28, 1))
    h = keras.layers.Rescaling(1 / 255)(images)
    h = keras.layers.Conv2D(8, 3, padding="same", use_bias=False)(h)
    h = keras.layers.BatchNormalization(center=True, scale=False)(h)
    h = keras.layers.ReLU()(h)
    h = keras.layers.Conv2D(12, 4, strides=2, use_bias=False)(h)
    h = keras.layers.BatchNormalization(center=True, scale=False)(h)
    h = keras.layers.ReLU()(h)
    h = keras.layers.GlobalAveragePooling2D()(h)
    h = keras.layers.Dense(32, activation="relu")(h)
    h = keras.layers.Dropout(0.5)(h)
    return keras.Model(images, keras.layers.Dense(10)(h))


def mnist_pipelines():
    (train_x, train_y), (test_x, test_y) = keras.datasets.mnist.load_data()
    # float pixels with a trailing channel axis: (rows, 28, 28, 1)
    train_x = train_x.astype("float32")[..., np.newaxis]
    test_x = test_x.astype("float32")[..., np.newaxis]
    print("train images:", train_x.shape, "test images:", test_x.shape)
    return (tf.data.Dataset.from_tensor_slices((train_x, train_y)),
            tf.data.Dataset.from_tensor_slices((test_x, test_y)))
'''

# ports distributed_training_with_jax, cell 1: data-parallel training over all devices.
TRAIN_A = '''
epochs = 2
global_batch = 64

train_pipe, test_pipe = mnist_pipelines()
train_pipe = train_pipe.batch(global_batch, drop_remainder=True)
model = make_convnet()
'''

TRAIN_B = '''
adam = keras.optimizers.Adam(1e-3)
xent = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

# Create every variable before the state is collected.
first_images, first_labels = next(iter(train_pipe))
model.build(first_images)
adam.build(model.trainable_variables)


def loss_and_buffers(params, buffers, images, labels):
    logits, buffers = model.stateless_call(params, buffers, images, training=True)
    return xent(labels, logits), buffers


loss_and_grads = jax.value_and_grad(loss_and_buffers, has_aux=True)


@jax.jit
def update(state, images, labels):
    params, buffers, opt_state = state
    (value, buffers), grads = loss_and_grads(params, buffers, images, labels)
    params, opt_state = adam.stateless_apply(opt_state, grads, params)
    return value, (params, buffers, opt_state)


def replicate_state(device_grid):
    # An empty PartitionSpec: every device holds a full copy.
    everywhere = NamedSharding(Mesh(device_grid, axis_names=("replica",)), P())
    return (jax.device_put(model.trainable_variables, everywhere),
            jax.device_put(model.non_trainable_variables, everywhere),
            jax.device_put(adam.variables, everywhere))


n_devices = len(jax.local_devices())
print("devices:", n_devices)
device_grid = mesh_utils.create_device_mesh((n_devices,))
# Rows of each global batch are spread over the devices.
row_split = NamedSharding(Mesh(device_grid, axis_names=("batch",)), P("batch"))

images, labels = next(iter(train_pipe))
placed = jax.device_put(images.numpy(), row_split)
jax.debug.visualize_array_sharding(placed.reshape(global_batch, -1))

state = replicate_state(device_grid)
for epoch in range(epochs):
    for images, labels in train_pipe:
        value, state = update(state, jax.device_put(images.numpy(), row_split),
                              labels.numpy())
    print("epoch", epoch, "last batch loss", value)

# Give the model its trained values back.
params, buffers, _ = state
for var, new in zip(model.trainable_variables, params):
    var.assign(new)
for var, new in zip(model.non_trainable_variables, buffers):
    var.assign(new)
'''


# With the installed JAX (0.10), Keras 3.15's Variables can no longer go through
# `jax.device_put`/`jax.jit`: the loop fails on Keras itself. There Keras runs the loop
# from its variables' values instead (`keras_reference`).
JIT_OF_VARIABLES = "Triggering __jax_array__() during abstractification is no longer supported"


def as_arrays(source):
    for name in ("model.trainable_variables", "model.non_trainable_variables",
                 "adam.variables"):
        expr = f"jax.device_put({name}, everywhere)"
        assert source.count(expr) == 1, expr
        source = source.replace(expr, f"jax.device_put([v.value for v in {name}], everywhere)")
    return source


def check_setup(k, x):
    assert len(jax.devices()) == 8
    km, xm = k["make_convnet"](), x["make_convnet"]()
    assert km.count_params() == xm.count_params()
    assert [w.shape for w in xm.weights] == [w.shape for w in km.weights]
    train_k, _ = k["mnist_pipelines"]()
    train_x, _ = x["mnist_pipelines"]()
    close(next(iter(train_x)), next(iter(train_k)), 0, "first training example")


def kerax_training(x):
    """Where Keras cannot run the loop: kerax's loop ran on 8 devices and wrote its state
    back into the model."""
    assert x["n_devices"] == 8
    assert np.isfinite(float(x["value"]))
    close([np.asarray(v) for v in x["model"].trainable_variables],
          [np.asarray(v) for v in x["state"][0]], 0, "variables assigned from state")
    # The replicated state lives on all 8 devices.
    leaf = jax.tree_util.tree_leaves(x["state"])[0]
    assert len(leaf.sharding.device_set) == 8


def check_training(k, x):
    # The states compare by structure (the values are not compared). Both libraries'
    # Dropouts keep a `seed_generator_state` in `model.non_trainable_variables`, so the
    # buffers match one for one.
    assert len(k["state"][1]) == len(x["state"][1])
    same_shapes(x["state"], k["state"], "state")
    kerax_training(x)


CELLS = [
    Cell(SETUP, check=check_setup),
    Cell(TRAIN_A, Sync("model"), TRAIN_B, check=check_training, keras_fails=JIT_OF_VARIABLES,
         keras_reference={2: as_arrays(TRAIN_B)}),
]


def main():
    import keras

    datasets = standins.mnist_datasets(256, 64)
    results = run_guide("distributed_training_with_jax", CELLS, datasets, datasets, keras)
    rows = [dataclasses.asdict(res) for res in results]
    sys.stdout.write("\nRESULTS " + json.dumps(rows, default=str) + "\n")


if __name__ == "__main__":
    main()
