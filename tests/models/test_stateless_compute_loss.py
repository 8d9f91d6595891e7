"""`Model.stateless_compute_loss` (Keras 3's JAX trainer API) in a custom `train_step`."""

import jax
import pytest
import numpy as np

import kerax


def _model(lib):
    class Custom(lib.Model):
        def train_step(self, state, data):
            tv, ntv, ov, mv = state
            x, y, sw = data

            def loss_fn(tv, ntv, mv):
                y_pred, ntv = self.stateless_call(tv, ntv, x, training=True)
                loss, (tv, ntv, mv) = self.stateless_compute_loss(
                    tv, ntv, mv, x=x, y=y, y_pred=y_pred, sample_weight=sw, training=True)
                return loss, (y_pred, ntv, mv)

            (loss, (y_pred, ntv, mv)), grads = jax.value_and_grad(loss_fn, has_aux=True)(
                tv, ntv, mv)
            tv, ov = self.optimizer.stateless_apply(ov, grads, tv)
            new, logs = [], {}
            for metric in self.metrics:
                this = mv[len(new):len(new) + len(metric.variables)]
                this = (metric.stateless_update_state(this, loss) if metric.name == "loss"
                        else metric.stateless_update_state(this, y, y_pred))
                logs[metric.name] = metric.stateless_result(this)
                new += this
            return logs, (tv, ntv, ov, new)

    inputs = lib.Input((3,))
    hidden = lib.layers.Dense(4, kernel_regularizer=lib.regularizers.L2(0.1),
                              activation="relu")(inputs)
    model = Custom(inputs, lib.layers.Dense(1)(hidden))
    r = np.random.default_rng(1)
    model.set_weights([r.normal(size=w.shape).astype("float32")
                       for w in model.get_weights()])
    return model


def test_stateless_compute_loss_in_train_step_matches_keras(keras, rng):
    x = rng.normal(size=(12, 3)).astype("float32")
    y = rng.normal(size=(12, 1)).astype("float32")
    sw = rng.uniform(size=(12,)).astype("float32")

    def run(lib):
        model = _model(lib)
        model.compile(lib.optimizers.SGD(0.05), "mse", metrics=["mae"])
        history = model.fit(x, y, sample_weight=sw, batch_size=4, epochs=2, shuffle=False,
                            verbose=0)
        tv, ntv = model.trainable_variables, model.non_trainable_variables
        y_pred, ntv = model.stateless_call(tv, ntv, x)
        loss, lists = model.stateless_compute_loss(tv, ntv, model.metrics_variables, x=x,
                                                   y=y, y_pred=y_pred)
        return history.history, model.get_weights(), float(loss), [len(v) for v in lists]

    got, want = run(kerax), run(keras)
    assert sorted(got[0]) == sorted(want[0])
    for k in want[0]:
        np.testing.assert_allclose(got[0][k], want[0][k], rtol=1e-5)
    for a, b in zip(got[1], want[1]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert got[2] == pytest.approx(want[2], rel=1e-5)
    assert got[3] == want[3]

