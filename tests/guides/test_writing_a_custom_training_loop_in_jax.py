"""Our port of the keras.io guide "Writing a training loop from scratch in JAX": each
test runs one cell, written by us, that exercises the idioms the guide's cell of the
same number teaches, on Keras 3 and on kerax, and compares the two runs.

The idioms, in the guide's order: a functional MNIST classifier and `tf.data` pipelines;
a loss object and a Keras optimizer; a pure loss function over `model.stateless_call`;
`jax.value_and_grad(..., has_aux=True)`; a train step over a `(trainable,
non_trainable, optimizer)` state with `optimizer.stateless_apply`, eager then under
`jax.jit`; `optimizer.build(model.trainable_variables)` and a loop that threads the
state; writing the state back with `variable.assign`; metrics threaded through
`stateless_update_state` and read back with `assign` + `result()`; a jitted eval step;
`self.add_loss` in a layer and `stateless_call(..., return_losses=True)`.

Data: `keras.datasets.mnist.load_data()` gives random uint8 images of MNIST's shapes
(320 training rows, of which our cell keeps the last 64 for validation; 64 test rows);
`tf.data` is the offline stand-in of `standins.py` (the same shuffles for both libraries).
Each new model gets Keras' initial weights (`Sync`), so the loops compare value for value.
"""

import numpy as np
import pytest

import kerax

from . import standins
from .harness import Cell, Sync, assert_cell, cell_params, close, run_guide, weights_close

TOL = 1e-4

# ports writing_a_custom_training_loop_in_jax, cell 0: JAX backend, tf.data for input.
SETUP = '''
import os
os.environ["KERAS_BACKEND"] = "jax"  # the loop below is written against JAX

import jax
import numpy as np
import keras
import tensorflow as tf  # only its input pipelines are used
'''

# ports writing_a_custom_training_loop_in_jax, cell 1: the model and the datasets.
MODEL_AND_DATA_A = '''
def build_classifier():
    pixels = keras.Input(shape=(784,), name="pixels")
    hidden = keras.layers.Dense(32, activation="relu")(pixels)
    hidden = keras.layers.Dense(32, activation="relu")(hidden)
    logits = keras.layers.Dense(10, name="logits")(hidden)
    return keras.Model(inputs=pixels, outputs=logits)


model = build_classifier()
'''

MODEL_AND_DATA_B = '''
BATCH = 32
(train_images, train_labels), (test_images, test_labels) = keras.datasets.mnist.load_data()
train_images = train_images.reshape(-1, 28 * 28).astype("float32")
test_images = test_images.reshape(-1, 28 * 28).astype("float32")
train_labels = keras.utils.to_categorical(train_labels)
test_labels = keras.utils.to_categorical(test_labels)

# Hold the last 64 training rows out for validation.
held_out = 64
val_images, val_labels = train_images[-held_out:], train_labels[-held_out:]
train_images, train_labels = train_images[:-held_out], train_labels[:-held_out]

train_batches = tf.data.Dataset.from_tensor_slices((train_images, train_labels))
train_batches = train_batches.shuffle(buffer_size=512).batch(BATCH)
val_batches = tf.data.Dataset.from_tensor_slices((val_images, val_labels)).batch(BATCH)
'''

# ports writing_a_custom_training_loop_in_jax, cell 2: the loss and the optimizer.
LOSS_AND_OPTIMIZER = '''
xent = keras.losses.CategoricalCrossentropy(from_logits=True)
adam = keras.optimizers.Adam(learning_rate=2e-3)
'''

# ports writing_a_custom_training_loop_in_jax, cell 3: a pure loss over the model state.
PURE_LOSS = '''
def loss_and_buffers(params, buffers, images, labels):
    logits, buffers = model.stateless_call(params, buffers, images)
    return xent(labels, logits), buffers
'''

# ports writing_a_custom_training_loop_in_jax, cell 4: its value-and-gradient function.
VALUE_AND_GRAD = '''
loss_and_grads = jax.value_and_grad(loss_and_buffers, has_aux=True)
'''

# ports writing_a_custom_training_loop_in_jax, cell 5: one optimisation step, eager.
EAGER_STEP = '''
def update(state, batch):
    params, buffers, opt_state = state
    images, labels = batch
    (value, buffers), grads = loss_and_grads(params, buffers, images, labels)
    params, opt_state = adam.stateless_apply(opt_state, grads, params)
    return value, (params, buffers, opt_state)
'''

# ports writing_a_custom_training_loop_in_jax, cell 6: the same step, compiled.
JIT_STEP = '''
@jax.jit
def update(state, batch):
    params, buffers, opt_state = state
    images, labels = batch
    (value, buffers), grads = loss_and_grads(params, buffers, images, labels)
    params, opt_state = adam.stateless_apply(opt_state, grads, params)
    return value, (params, buffers, opt_state)
'''

# ports writing_a_custom_training_loop_in_jax, cell 7: build the optimizer, run the loop.
LOOP = '''
adam.build(model.trainable_variables)  # creates Adam's moments before the loop
state = (model.trainable_variables, model.non_trainable_variables, adam.variables)

for i, (images, labels) in enumerate(train_batches):
    value, state = update(state, (images.numpy(), labels.numpy()))
    if i % 4 == 0:
        print(f"step {i}: batch loss {float(value):.4f}, {(i + 1) * BATCH} rows seen")
'''

# ports writing_a_custom_training_loop_in_jax, cell 8: the model's variables get the
# trained values.
WRITE_BACK = '''
params, buffers, _ = state
for var, new in zip(model.trainable_variables, params):
    var.assign(new)
for var, new in zip(model.non_trainable_variables, buffers):
    var.assign(new)
'''

# ports writing_a_custom_training_loop_in_jax, cell 9: a fresh model, and a metric
# threaded through the loss function and the compiled step.
METRIC_STEP_A = '''
model = build_classifier()
'''

METRIC_STEP_B = '''
adam = keras.optimizers.Adam(learning_rate=2e-3)
xent = keras.losses.CategoricalCrossentropy(from_logits=True)
fit_accuracy = keras.metrics.CategoricalAccuracy()
holdout_accuracy = keras.metrics.CategoricalAccuracy()


def loss_and_buffers(params, buffers, acc_state, images, labels):
    logits, buffers = model.stateless_call(params, buffers, images)
    acc_state = fit_accuracy.stateless_update_state(acc_state, labels, logits)
    return xent(labels, logits), (buffers, acc_state)


loss_and_grads = jax.value_and_grad(loss_and_buffers, has_aux=True)


@jax.jit
def update(state, batch):
    params, buffers, opt_state, acc_state = state
    images, labels = batch
    (value, (buffers, acc_state)), grads = loss_and_grads(
        params, buffers, acc_state, images, labels)
    params, opt_state = adam.stateless_apply(opt_state, grads, params)
    return value, (params, buffers, opt_state, acc_state)
'''

# ports writing_a_custom_training_loop_in_jax, cell 10: a compiled evaluation step.
EVAL_STEP = '''
@jax.jit
def score(state, batch):
    params, buffers, acc_state = state
    images, labels = batch
    logits, buffers = model.stateless_call(params, buffers, images)
    acc_state = holdout_accuracy.stateless_update_state(acc_state, labels, logits)
    return xent(labels, logits), (params, buffers, acc_state)
'''

# ports writing_a_custom_training_loop_in_jax, cell 11: train, then evaluate, reading
# the metrics from the threaded state.
TWO_LOOPS = '''
adam.build(model.trainable_variables)
state = (model.trainable_variables, model.non_trainable_variables, adam.variables,
         fit_accuracy.variables)

for i, (images, labels) in enumerate(train_batches):
    value, state = update(state, (images.numpy(), labels.numpy()))
    if i % 4 == 0:
        for var, new in zip(fit_accuracy.variables, state[3]):
            var.assign(new)
        print(f"step {i}: loss {float(value):.4f}, accuracy {fit_accuracy.result()}")

params, buffers, _, _ = state
state = (params, buffers, holdout_accuracy.variables)
for i, (images, labels) in enumerate(val_batches):
    value, state = score(state, (images.numpy(), labels.numpy()))
    for var, new in zip(holdout_accuracy.variables, state[2]):
        var.assign(new)
    print(f"validation batch {i}: loss {float(value):.4f}, "
          f"accuracy {holdout_accuracy.result()}")
'''

# ports writing_a_custom_training_loop_in_jax, cell 12: a layer that adds a loss.
PENALTY_LAYER = '''
class L1ActivityPenalty(keras.layers.Layer):
    def call(self, activations):
        self.add_loss(0.005 * jax.numpy.sum(jax.numpy.abs(activations)))
        return activations
'''

# ports writing_a_custom_training_loop_in_jax, cell 13: a model that uses it.
PENALTY_MODEL = '''
pixels = keras.Input(shape=(784,), name="pixels")
hidden = keras.layers.Dense(32, activation="relu")(pixels)
hidden = L1ActivityPenalty()(hidden)
hidden = keras.layers.Dense(32, activation="relu")(hidden)
model = keras.Model(pixels, keras.layers.Dense(10, name="logits")(hidden))
'''

# ports writing_a_custom_training_loop_in_jax, cell 14: the model's own losses, returned
# by stateless_call, join the main loss.
RETURN_LOSSES = '''
def loss_and_buffers(params, buffers, acc_state, images, labels):
    logits, buffers, extra = model.stateless_call(
        params, buffers, images, return_losses=True)
    value = xent(labels, logits) + sum(extra)
    acc_state = fit_accuracy.stateless_update_state(acc_state, labels, logits)
    return value, (buffers, acc_state)
'''


# With the installed JAX (0.10), Keras 3.15's Variables can no longer be passed to a
# `jax.jit` function: our loops (like the guide's) fail on Keras itself at the first
# compiled step. There Keras runs the loop from its variables' values instead
# (`keras_reference`), which is what kerax's run is compared to.
JIT_OF_VARIABLES = "Triggering __jax_array__() during abstractification is no longer supported"


def as_arrays(source):
    """The Keras reference of a loop cell: each state it starts from the variables is
    made of their values."""
    out, rest = "", source
    while "\nstate = (" in rest:
        head, sep, tail = rest.partition("\nstate = (")
        body, close_paren, rest = tail.partition(")\n")
        assert close_paren, source
        out += (head + sep + body + close_paren
                + "state = jax.tree_util.tree_map(lambda v: getattr(v, 'value', v), state)\n")
    assert out, source
    return out + rest


def _values(variables):
    return [np.asarray(v) for v in variables]


def _batch(ns):
    return ns["train_images"][:32], ns["train_labels"][:32]


def check_setup(k, x):
    assert x["keras"].Model is kerax.Model


def check_data(k, x):
    close(x["train_images"], k["train_images"], 0, "train_images")
    close(x["val_labels"], k["val_labels"], 0, "val_labels")
    assert x["train_images"].shape == (256, 784) and x["val_images"].shape == (64, 784)
    assert x["train_batches"].cardinality() == k["train_batches"].cardinality() == 8
    assert [v.shape for v in x["model"].weights] == [v.shape for v in k["model"].weights]
    close(x["model"].predict(x["val_images"][:8], verbose=0),
          k["model"].predict(k["val_images"][:8], verbose=0), 1e-5, "predict")


def check_loss_and_optimizer(k, x):
    labels = k["train_labels"][:8]
    logits = np.random.default_rng(0).normal(size=(8, 10)).astype("float32")
    close(x["xent"](labels, logits), k["xent"](labels, logits), 1e-6, "loss")
    assert type(x["adam"]).__name__ == "Adam"
    close(x["adam"].learning_rate, k["adam"].learning_rate, 0, "learning_rate")


def check_pure_loss(k, x):
    got, want = ((ns["loss_and_buffers"](
        _values(ns["model"].trainable_variables), _values(ns["model"].non_trainable_variables),
        *_batch(ns))) for ns in (x, k))
    close(got, want, 1e-5, "loss_and_buffers")


def check_value_and_grad(k, x):
    got, want = ((ns["loss_and_grads"](
        _values(ns["model"].trainable_variables), _values(ns["model"].non_trainable_variables),
        *_batch(ns))) for ns in (x, k))
    close(got, want, 1e-5, "value_and_grad")


def check_defined(name):
    def check(k, x):
        assert callable(x[name])
    return check


def check_loop(k, x):
    close(x["value"], k["value"], TOL, "last batch loss")
    close(x["state"], k["state"], TOL, "state after the loop")
    assert x["__out__"].count("step ") == k["__out__"].count("step ") == 2


def check_written_back(k, x):
    weights_close(k["model"], x["model"], TOL)


def check_two_loops(k, x):
    close(x["value"], k["value"], TOL, "last validation loss")
    close(x["state"], k["state"], TOL, "evaluation state after the loops")
    close(x["fit_accuracy"].result(), k["fit_accuracy"].result(), TOL, "train accuracy")
    close(x["holdout_accuracy"].result(), k["holdout_accuracy"].result(), TOL,
          "validation accuracy")
    assert x["fit_accuracy"].name == k["fit_accuracy"].name


def check_penalty_model(k, x):
    rows = k["train_images"][:4]
    close(x["model"](rows), k["model"](rows), 1e-5, "model(x)")
    close(x["model"].losses, k["model"].losses, 1e-4, "model.losses after a call")


def check_return_losses(k, x):
    got, want = ((ns["loss_and_buffers"](
        _values(ns["model"].trainable_variables),
        _values(ns["model"].non_trainable_variables),
        _values(ns["fit_accuracy"].variables), *_batch(ns))) for ns in (x, k))
    close(got, want, 1e-4, "loss_and_buffers with return_losses=True")


CELLS = [
    Cell(SETUP, check=check_setup),
    Cell(MODEL_AND_DATA_A, Sync("model"), MODEL_AND_DATA_B, check=check_data),
    Cell(LOSS_AND_OPTIMIZER, check=check_loss_and_optimizer),
    Cell(PURE_LOSS, check=check_pure_loss),
    Cell(VALUE_AND_GRAD, check=check_value_and_grad),
    Cell(EAGER_STEP, check=check_defined("update")),
    Cell(JIT_STEP, check=check_defined("update")),
    Cell(LOOP, check=check_loop, keras_fails=JIT_OF_VARIABLES,
         keras_reference={0: as_arrays(LOOP)}),
    Cell(WRITE_BACK, check=check_written_back),
    Cell(METRIC_STEP_A, Sync("model"), METRIC_STEP_B, check=check_defined("update")),
    Cell(EVAL_STEP, check=check_defined("score")),
    Cell(TWO_LOOPS, check=check_two_loops, keras_fails=JIT_OF_VARIABLES,
         keras_reference={0: as_arrays(TWO_LOOPS)}),
    Cell(PENALTY_LAYER, check=check_defined("L1ActivityPenalty")),
    Cell(PENALTY_MODEL, Sync("model"), check=check_penalty_model),
    Cell(RETURN_LOSSES, check=check_return_losses),
]

@pytest.fixture(scope="module")
def results(keras):
    return run_guide("writing_a_custom_training_loop_in_jax", CELLS,
                     standins.mnist_datasets(320, 64), standins.mnist_datasets(320, 64),
                     keras)


@pytest.mark.parametrize("cell", cell_params(CELLS))
def test_cell(results, cell):
    assert_cell(results, CELLS, cell)
