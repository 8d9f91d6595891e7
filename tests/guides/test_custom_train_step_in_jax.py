"""Our port of the keras.io guide "Customizing what happens in `fit()` with JAX": each
test runs one cell, written by us, that exercises the idioms the guide's cell of the
same number teaches, on Keras 3 and on kerax, and compares the two runs.

The idioms, in the guide's order: a `keras.Model` subclass whose `train_step(self,
state, data)` differentiates a stateless loss (`stateless_call` then
`stateless_compute_loss`) with `jax.value_and_grad(..., has_aux=True)`, applies
`optimizer.stateless_apply` and threads every metric through `stateless_update_state` /
`stateless_result`; then the same with metrics and loss owned by the model (a `metrics`
property, `compile` with an optimizer only); then a custom `test_step(self, state, data)`
driven by `evaluate(return_dict=True)`.

Each model gets Keras' initial weights (`Sync`) before `fit`/`evaluate`; the data is
`np.random` drawn from the same seed in both runs. `fit` shuffles, and Keras draws its
batch order from NumPy's global generator while kerax uses its own seed, so histories and
weights after a shuffled `fit` are compared with a tolerance for that (`SHUFFLED`).
"""

import pytest

import kerax

from .harness import (Cell, Sync, assert_cell, cell_params, close, history_close, run_guide,
                      weights_close)

SHUFFLED = 2e-2  # same data and start, another batch order (see module docstring)

# ports custom_train_step_in_jax, cell 0: the backend is chosen before keras is imported.
SETUP = '''
import os
os.environ["KERAS_BACKEND"] = "jax"  # a custom train_step in JAX needs this backend

import jax
import numpy as np
import keras
'''

# ports custom_train_step_in_jax, cell 1: a stateless train_step that reuses the loss and
# metrics given to compile().
STATELESS_FIT = '''
class FunctionalTrainer(keras.Model):
    """train_step as a pure function of (state, batch) -> (logs, new state)."""

    def _objective(self, params, buffers, metric_state, inputs, targets, weights,
                   training=False):
        preds, buffers = self.stateless_call(params, buffers, inputs, training=training)
        value, (params, buffers, metric_state) = self.stateless_compute_loss(
            params, buffers, metric_state,
            x=inputs, y=targets, y_pred=preds, sample_weight=weights, training=training)
        return value, (preds, buffers, metric_state)

    def train_step(self, state, data):
        params, buffers, opt_state, metric_state = state
        inputs, targets, weights = keras.utils.unpack_x_y_sample_weight(data)
        value_and_grads = jax.value_and_grad(self._objective, has_aux=True)
        (value, (preds, buffers, metric_state)), grads = value_and_grads(
            params, buffers, metric_state, inputs, targets, weights, training=True)
        params, opt_state = self.optimizer.stateless_apply(opt_state, grads, params)

        # Every metric owns a consecutive slice of metric_state, in self.metrics order.
        logs, updated, start = {}, [], 0
        for m in self.metrics:
            own = metric_state[start:start + len(m.variables)]
            start += len(m.variables)
            if m.name == "loss":
                own = m.stateless_update_state(own, value, sample_weight=weights)
            else:
                own = m.stateless_update_state(own, targets, preds, sample_weight=weights)
            logs[m.name] = m.stateless_result(own)
            updated.extend(own)
        return logs, (params, buffers, opt_state, updated)
'''

# ports custom_train_step_in_jax, cell 2: compile with loss and metrics, then plain fit().
FIT_FUNCTIONAL_A = '''
features = keras.Input(shape=(16,))
score = keras.layers.Dense(2)(features)
model = FunctionalTrainer(features, score)
'''

FIT_FUNCTIONAL_B = '''
model.compile(optimizer=keras.optimizers.Adam(), loss="mse", metrics=["mae"])
inputs = np.random.random((256, 16))
targets = np.random.random((256, 2))
model.fit(inputs, targets, epochs=2, verbose=0)
'''

# ports custom_train_step_in_jax, cell 3: the model owns its loss and metric trackers,
# compile() only gets the optimizer.
OWN_TRACKERS_A = '''
class SelfTrackingTrainer(keras.Model):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.mse_fn = keras.losses.MeanSquaredError()
        self.running_loss = keras.metrics.Mean(name="loss")
        self.running_mae = keras.metrics.MeanAbsoluteError(name="mae")

    @property
    def metrics(self):
        # Listed here so that fit() and evaluate() reset them at each epoch.
        return [self.running_loss, self.running_mae]

    def _objective(self, params, buffers, inputs, targets, weights, training=False):
        preds, buffers = self.stateless_call(params, buffers, inputs, training=training)
        return self.mse_fn(targets, preds, sample_weight=weights), (preds, buffers)

    def train_step(self, state, data):
        params, buffers, opt_state, metric_state = state
        inputs, targets, weights = keras.utils.unpack_x_y_sample_weight(data)
        (value, (preds, buffers)), grads = jax.value_and_grad(
            self._objective, has_aux=True)(params, buffers, inputs, targets, weights,
                                           training=True)
        params, opt_state = self.optimizer.stateless_apply(opt_state, grads, params)

        split = len(self.running_loss.variables)
        loss_state = self.running_loss.stateless_update_state(
            metric_state[:split], value, sample_weight=weights)
        mae_state = self.running_mae.stateless_update_state(
            metric_state[split:], targets, preds, sample_weight=weights)
        logs = {
            self.running_loss.name: self.running_loss.stateless_result(loss_state),
            self.running_mae.name: self.running_mae.stateless_result(mae_state),
        }
        return logs, (params, buffers, opt_state, loss_state + mae_state)


features = keras.Input(shape=(16,))
model = SelfTrackingTrainer(features, keras.layers.Dense(2)(features))
'''

OWN_TRACKERS_B = '''
model.compile(optimizer="adam")  # no loss, no metrics: train_step has its own
inputs = np.random.random((256, 16))
targets = np.random.random((256, 2))
model.fit(inputs, targets, epochs=3, verbose=0)
'''

# ports custom_train_step_in_jax, cell 4: a stateless test_step run by evaluate().
TEST_STEP_A = '''
class CustomEvaluator(keras.Model):
    def test_step(self, state, data):
        params, buffers, metric_state = state
        inputs, targets, weights = keras.utils.unpack_x_y_sample_weight(data)
        preds, buffers = self.stateless_call(params, buffers, inputs, training=False)
        value, (params, buffers, metric_state) = self.stateless_compute_loss(
            params, buffers, metric_state,
            x=inputs, y=targets, y_pred=preds, sample_weight=weights, training=False)

        logs, updated, start = {}, [], 0
        for m in self.metrics:
            own = metric_state[start:start + len(m.variables)]
            start += len(m.variables)
            if m.name == "loss":
                own = m.stateless_update_state(own, value, sample_weight=weights)
            else:
                own = m.stateless_update_state(own, targets, preds, sample_weight=weights)
            logs[m.name] = m.stateless_result(own)
            updated.extend(own)
        return logs, (params, buffers, updated)


features = keras.Input(shape=(16,))
model = CustomEvaluator(features, keras.layers.Dense(2)(features))
'''

TEST_STEP_B = '''
model.compile(loss="mean_squared_error", metrics=["mae"])
inputs = np.random.random((256, 16))
targets = np.random.random((256, 2))
model.evaluate(inputs, targets, return_dict=True, verbose=0)
'''


def check_setup(k, x):
    assert x["keras"].Model is kerax.Model and k["jax"] is x["jax"]


def check_class(k, x):
    assert issubclass(x["FunctionalTrainer"], kerax.Model)


def check_fit(k, x):
    km, xm = k["model"], x["model"]
    history_close(km, xm, SHUFFLED)
    weights_close(km, xm, SHUFFLED)
    # The logs of the custom train_step, in the same order.
    assert list(xm.history.history) == list(km.history.history)


def check_evaluate(k, x):
    close(x["_"], k["_"], 1e-5, "evaluate(return_dict=True)")
    assert sorted(x["_"]) == sorted(k["_"])


CELLS = [
    Cell(SETUP, check=check_setup),
    Cell(STATELESS_FIT, check=check_class),
    Cell(FIT_FUNCTIONAL_A, Sync("model"), FIT_FUNCTIONAL_B, check=check_fit),
    Cell(OWN_TRACKERS_A, Sync("model"), OWN_TRACKERS_B, check=check_fit),
    Cell(TEST_STEP_A, Sync("model"), TEST_STEP_B, check=check_evaluate),
]

@pytest.fixture(scope="module")
def results(keras):
    return run_guide("custom_train_step_in_jax", CELLS, None, None, keras)


@pytest.mark.parametrize("cell", cell_params(CELLS))
def test_cell(results, cell):
    assert_cell(results, CELLS, cell)
