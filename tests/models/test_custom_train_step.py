"""Custom training steps: Keras 3's JAX-backend `train_step` (ported from Keras' guide
"Customizing what happens in fit() with JAX") and kerax's pure `pure_train_step`."""

import importlib.util
import pathlib

import jax
import numpy as np
import pytest

import kerax


def _guide_models(keras):
    """The guide's first example (`compute_loss_and_updates` + `train_step`), in `keras`."""

    class CustomModel(keras.Model):
        def compute_loss_and_updates(self, trainable_variables, non_trainable_variables, x,
                                     y, training=False):
            y_pred, non_trainable_variables = self.stateless_call(
                trainable_variables, non_trainable_variables, x, training=training)
            loss = self.compute_loss(x, y, y_pred)
            return loss, (y_pred, non_trainable_variables)

        def train_step(self, state, data):
            (trainable_variables, non_trainable_variables, optimizer_variables,
             metrics_variables) = state
            x, y = data
            grad_fn = jax.value_and_grad(self.compute_loss_and_updates, has_aux=True)
            (loss, (y_pred, non_trainable_variables)), grads = grad_fn(
                trainable_variables, non_trainable_variables, x, y, training=True)
            trainable_variables, optimizer_variables = self.optimizer.stateless_apply(
                optimizer_variables, grads, trainable_variables)
            new_metrics_vars, logs = [], {}
            for metric in self.metrics:
                this = metrics_variables[len(new_metrics_vars):
                                         len(new_metrics_vars) + len(metric.variables)]
                if metric.name == "loss":
                    this = metric.stateless_update_state(this, loss)
                else:
                    this = metric.stateless_update_state(this, y, y_pred)
                logs[metric.name] = metric.stateless_result(this)
                new_metrics_vars += this
            state = (trainable_variables, non_trainable_variables, optimizer_variables,
                     new_metrics_vars)
            return logs, state

        def test_step(self, state, data):
            x, y = data
            trainable_variables, non_trainable_variables, metrics_variables = state
            y_pred, non_trainable_variables = self.stateless_call(
                trainable_variables, non_trainable_variables, x, training=False)
            loss = self.compute_loss(x, y, y_pred)
            new_metrics_vars, logs = [], {}
            for metric in self.metrics:
                this = metrics_variables[len(new_metrics_vars):
                                         len(new_metrics_vars) + len(metric.variables)]
                if metric.name == "loss":
                    this = metric.stateless_update_state(this, loss)
                else:
                    this = metric.stateless_update_state(this, y, y_pred)
                logs[metric.name] = metric.stateless_result(this)
                new_metrics_vars += this
            return logs, (trainable_variables, non_trainable_variables, new_metrics_vars)

    inputs = keras.Input(shape=(4,))
    hidden = keras.layers.Dense(5, activation="relu")(inputs)
    outputs = keras.layers.Dense(1)(hidden)
    return CustomModel(inputs, outputs)


def test_keras_guide_train_step_matches_keras(keras):
    r = np.random.default_rng(0)
    x, y = r.normal(size=(16, 4)).astype("float32"), r.normal(size=(16, 1)).astype("float32")
    km, m = _guide_models(keras), _guide_models(kerax)
    m.set_weights(km.get_weights())
    for model in (km, m):
        model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    kh = km.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    h = m.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    for name in ("loss", "mae"):
        np.testing.assert_allclose(h.history[name], kh.history[name], rtol=1e-5)
    for a, b in zip(m.get_weights(), km.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    expected = km.evaluate(x, y, batch_size=16, verbose=0, return_dict=True)
    got = m.evaluate(x, y, batch_size=16, verbose=0, return_dict=True)
    np.testing.assert_allclose([got["loss"], got["mae"]], [expected["loss"], expected["mae"]],
                               rtol=1e-5)


def test_lower_level_trackers_without_compiled_loss(keras):
    """The guide's "going lower-level": own trackers, `compile(optimizer=...)` only."""

    def build(lib):
        class CustomModel(lib.Model):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                self.loss_tracker = lib.metrics.Mean(name="loss")
                self.mae_metric = lib.metrics.MeanAbsoluteError(name="mae")

            @property
            def metrics(self):
                return [self.loss_tracker, self.mae_metric]

            def train_step(self, state, data):
                tv, ntv, ov, mv = state
                x, y = data

                def loss_fn(tv, ntv):
                    y_pred, ntv = self.stateless_call(tv, ntv, x, training=True)
                    return lib.losses.mean_squared_error(y, y_pred).mean(), (y_pred, ntv)

                (loss, (y_pred, ntv)), grads = jax.value_and_grad(loss_fn, has_aux=True)(
                    tv, ntv)
                tv, ov = self.optimizer.stateless_apply(ov, grads, tv)
                loss_vars = self.loss_tracker.stateless_update_state(mv[:2], loss)
                mae_vars = self.mae_metric.stateless_update_state(mv[2:], y, y_pred)
                logs = {"loss": self.loss_tracker.stateless_result(loss_vars),
                        "mae": self.mae_metric.stateless_result(mae_vars)}
                return logs, (tv, ntv, ov, loss_vars + mae_vars)

        inputs = lib.Input(shape=(3,))
        return CustomModel(inputs, lib.layers.Dense(1)(inputs))

    r = np.random.default_rng(1)
    x, y = r.normal(size=(12, 3)).astype("float32"), r.normal(size=(12, 1)).astype("float32")
    km, m = build(keras), build(kerax)
    m.set_weights(km.get_weights())
    for model in (km, m):
        model.compile(optimizer="adam")
    kh = km.fit(x, y, batch_size=5, epochs=2, shuffle=False, verbose=0)  # a short last batch
    h = m.fit(x, y, batch_size=5, epochs=2, shuffle=False, verbose=0)
    for name in ("loss", "mae"):
        np.testing.assert_allclose(h.history[name], kh.history[name], rtol=1e-5)
    assert float(m.mae_metric.result()) == pytest.approx(kh.history["mae"][-1], rel=1e-5)


def test_stateless_call_rejects_wrong_lists():
    model = kerax.Sequential([kerax.Input((2,)), kerax.layers.Dense(1)])
    with pytest.raises(ValueError, match="`trainable_variables` has 1 arrays, but the model"):
        model.stateless_call([np.ones((2, 1))], [], np.ones((1, 2)))


def _load_gan_example():
    path = pathlib.Path(__file__).parents[2] / "examples" / "gan.py"
    spec = importlib.util.spec_from_file_location("kerax_gan_example", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_pure_train_step_gan_trains_two_optimizers():
    gan_example = _load_gan_example()
    gan = gan_example.make_gan(latent_dim=2, data_dim=2)
    real = gan_example.real_data(64, seed=0)
    before = {k: np.asarray(v["kernel"]) for k, v in
              gan.variables["params"]["generator"].items() if "kernel" in v}
    history = gan.fit(real, batch_size=16, epochs=3, verbose=0)
    assert sorted(history.history) == ["d_loss", "g_loss"]
    assert all(np.isfinite(history.history["d_loss"]))
    after = gan.variables["params"]["generator"]
    assert any(not np.allclose(before[k], after[k]["kernel"]) for k in before)
    assert sorted(gan._pure_opt_state) == ["discriminator", "generator"]
    samples = gan.predict(np.zeros((5, 2), "float32"))
    assert samples.shape == (5, 2)
