"""`model.metrics` as Keras 3 has it: `[loss tracker, "compile_metrics" container, ...]`,
live after `fit`/`evaluate`, and the guide's custom steps over it; and re-`compile()`."""

import jax
import numpy as np
import pytest

import kerax


def _data(rng):
    x = rng.normal(size=(10, 3)).astype("float32")
    y = rng.normal(size=(10, 2)).astype("float32")
    sw = rng.uniform(size=(10,)).astype("float32")
    return x, y, sw


def _dense(lib):
    model = lib.Sequential([lib.Input((3,)), lib.layers.Dense(2)])
    model.set_weights([np.full((3, 2), 0.1, "float32"), np.zeros(2, "float32")])
    return model


def _results(model):
    out = []
    for m in model.metrics:
        r = m.result()
        out.append((m.name, {k: float(v) for k, v in r.items()} if isinstance(r, dict)
                    else float(r)))
    return out


def _assert_close(got, want):
    assert [n for n, _ in got] == [n for n, _ in want]
    for (_, a), (_, b) in zip(got, want):
        if isinstance(b, dict):
            assert sorted(a) == sorted(b)
            np.testing.assert_allclose([a[k] for k in b], list(b.values()), rtol=1e-5)
        else:
            assert a == pytest.approx(b, rel=1e-5)


def test_metrics_container_and_live_results_match_keras(keras, rng):
    x, y, sw = _data(rng)

    def run(lib):
        model = _dense(lib)
        model.compile("sgd", "mse", metrics=["mae"], weighted_metrics=["mse"])
        before = [m.name for m in model.metrics]
        history = model.fit(x, y, batch_size=4, shuffle=False, sample_weight=sw, verbose=0)
        after_fit = _results(model)
        evaluated = model.evaluate(x, y, batch_size=4, sample_weight=sw, verbose=0)
        container = model.metrics[1]
        return (before, model.metrics_names, history.history, after_fit, evaluated,
                _results(model), [v.name for v in container.variables],
                [m.name for m in container.metrics],
                {k: float(v) for k, v in model.get_metrics_result().items()})

    got, want = run(kerax), run(keras)
    assert got[0] == want[0] == ["loss", "compile_metrics"]
    assert got[1] == want[1]
    assert sorted(got[2]) == sorted(want[2])
    for k in want[2]:
        np.testing.assert_allclose(got[2][k], want[2][k], rtol=1e-5)
    _assert_close(got[3], want[3])
    np.testing.assert_allclose(got[4], want[4], rtol=1e-5)
    _assert_close(got[5], want[5])
    assert got[6] == want[6] and got[7] == want[7]
    assert sorted(got[8]) == sorted(want[8])
    np.testing.assert_allclose([got[8][k] for k in want[8]], list(want[8].values()),
                               rtol=1e-5)


def test_loss_only_compile_lists_no_container(keras):
    for lib in (kerax, keras):
        model = _dense(lib)
        model.compile("sgd", "mse")
        assert [m.name for m in model.metrics] == ["loss"]


def test_container_rejects_a_single_metric_not_in_a_list():
    with pytest.raises(ValueError, match="Expected `metrics` argument to be a list"):
        _dense(kerax).compile("sgd", "mse", metrics="mae")


def test_container_stateless_api_rejects_wrong_variables():
    model = _dense(kerax)
    model.compile("sgd", "mse", metrics=["mae"])
    model.evaluate(np.ones((4, 3)), np.ones((4, 2)), verbose=0)
    with pytest.raises(ValueError, match="'compile_metrics' expects 2 metric variables"):
        model.metrics[1].stateless_update_state([np.zeros(())], np.ones((2, 2)),
                                                np.ones((2, 2)))


def _guide_model(lib):
    """The JAX guide's custom steps over `self.metrics`, passing `sample_weight`."""

    class Custom(lib.Model):
        def _update(self, metrics_variables, loss, y, y_pred, sw):
            new, logs = [], {}
            for metric in self.metrics:
                this = metrics_variables[len(new):len(new) + len(metric.variables)]
                if metric.name == "loss":
                    this = metric.stateless_update_state(this, loss)
                else:
                    this = metric.stateless_update_state(this, y, y_pred, sample_weight=sw)
                logs[metric.name] = metric.stateless_result(this)
                new += this
            return new, logs

        def train_step(self, state, data):
            tv, ntv, ov, mv = state
            x, y, sw = data

            def loss_fn(tv, ntv):
                y_pred, ntv = self.stateless_call(tv, ntv, x, training=True)
                return self.compute_loss(x, y, y_pred, sample_weight=sw), (y_pred, ntv)

            (loss, (y_pred, ntv)), grads = jax.value_and_grad(loss_fn, has_aux=True)(tv, ntv)
            tv, ov = self.optimizer.stateless_apply(ov, grads, tv)
            mv, logs = self._update(mv, loss, y, y_pred, sw)
            return logs, (tv, ntv, ov, mv)

        def test_step(self, state, data):
            tv, ntv, mv = state
            x, y, sw = data
            y_pred, ntv = self.stateless_call(tv, ntv, x, training=False)
            loss = self.compute_loss(x, y, y_pred, sample_weight=sw)
            mv, logs = self._update(mv, loss, y, y_pred, sw)
            return logs, (tv, ntv, mv)

    inputs = lib.Input((3,))
    model = Custom(inputs, lib.layers.Dense(2)(inputs))
    model.set_weights([np.full((3, 2), 0.1, "float32"), np.zeros(2, "float32")])
    return model


def test_guide_custom_steps_over_the_container_match_keras(keras, rng):
    """Unweighted `metrics` ignore `sample_weight` in the user's step, as in Keras."""
    x, y, sw = _data(rng)

    def run(lib):
        model = _guide_model(lib)
        model.compile("sgd", "mse", metrics=["mae"], weighted_metrics=["mse"])
        history = model.fit(x, y, batch_size=5, epochs=2, shuffle=False, sample_weight=sw,
                            verbose=0)
        after_fit = _results(model)
        evaluated = model.evaluate(x, y, batch_size=5, sample_weight=sw, verbose=0,
                                   return_dict=True)
        return history.history, after_fit, evaluated, _results(model)

    got, want = run(kerax), run(keras)
    assert sorted(got[0]) == sorted(want[0]) == ["loss", "mae", "mse"]
    for k in want[0]:
        np.testing.assert_allclose(got[0][k], want[0][k], rtol=1e-5)
    _assert_close(got[1], want[1])
    assert sorted(got[2]) == sorted(want[2])
    np.testing.assert_allclose([got[2][k] for k in want[2]], list(want[2].values()),
                               rtol=1e-5)
    _assert_close(got[3], want[3])


def test_recompile_keeps_loss_and_metrics_not_given_as_keras(keras, rng):
    """`compile("sgd")` after `compile("sgd", "mse", metrics=["mae"])` keeps both (Keras'
    `if loss is not None` / `if metrics is not None or weighted_metrics is not None`)."""
    x, y, _ = _data(rng)

    def run(lib):
        model = _dense(lib)
        model.compile("sgd", "mse", metrics=["mae"])
        out = []
        for kwargs in ({}, {"loss": "mae"}, {"metrics": []}):
            model.compile("sgd", **kwargs)
            out.append(([m.name for m in model.metrics],
                        model.fit(x, y, batch_size=4, shuffle=False, verbose=0).history))
        return out

    for (got_names, got), (want_names, want) in zip(run(kerax), run(keras)):
        assert got_names == want_names
        assert sorted(got) == sorted(want)
        for k in want:
            np.testing.assert_allclose(got[k], want[k], rtol=1e-5)


def _camel_metric(y_true, y_pred):
    return y_pred[:, 0] - y_true[:, 0]


def test_compiled_metric_names_and_variable_paths_as_keras(keras, rng):
    # Keras renames a compiled metric after making it: the log key is what `compile` was
    # given (a function's snake_case name), the variables keep the paths they were made
    # under; checking a name at `compile` builds nothing (no automatic name is taken).
    x, y, _ = _data(rng)

    def run(lib):
        lib.utils.clear_session()
        model = _dense(lib)
        model.compile("sgd", "mse", metrics=["mae", _camel_metric, "AUC",
                                             lambda t, p: p[:, 1]])
        history = model.fit(x, y, epochs=1, batch_size=10, verbose=0)
        return sorted(history.history), [v.path for v in model.metrics_variables]

    got, want = run(kerax), run(keras)
    assert got == want
    assert "_camel_metric" in got[0] and "lambda" in got[0]
    assert "mean_absolute_error/total" in got[1] and "auc/true_positives" in got[1]
