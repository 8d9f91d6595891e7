"""Every step kind through the one epoch loop: the built-in step, Keras 3's JAX
`train_step`/`test_step`, and kerax's `pure_train_step`, on arrays, a PyDataset and a
generator, with the arguments of `fit`, compared with Keras 3 (history, iterations,
weights)."""

import warnings

import jax
import numpy as np
import pytest

import kerax
from kerax.trainer import compile_cache

R = np.random.default_rng(0)
X = R.normal(size=(20, 3)).astype("float32")
Y = (R.normal(size=(20, 1)) > 0).astype("float32")
SW = R.uniform(0.5, 1.5, size=(20,)).astype("float32")
XV = R.normal(size=(6, 3)).astype("float32")
YV = (R.normal(size=(6, 1)) > 0).astype("float32")


def _keras_step_model(lib):
    """The keras.io "customizing fit() with JAX" pattern, reading `data` with Keras'
    `unpack_x_y_sample_weight` (so class and sample weights reach the loss)."""

    class CustomModel(lib.Model):
        def compute_loss_and_updates(self, tv, ntv, x, y, sw, training=False):
            y_pred, ntv = self.stateless_call(tv, ntv, x, training=training)
            loss = self.compute_loss(x, y, y_pred, sample_weight=sw)
            return loss, (y_pred, ntv)

        def _update_metrics(self, mv, loss, y, y_pred, sw):
            new, logs = [], {}
            for metric in self.metrics:
                this = mv[len(new):len(new) + len(metric.variables)]
                if metric.name == "loss":
                    this = metric.stateless_update_state(this, loss)
                else:
                    this = metric.stateless_update_state(this, y, y_pred, sw)
                logs[metric.name] = metric.stateless_result(this)
                new += this
            return new, logs

        def train_step(self, state, data):
            tv, ntv, ov, mv = state
            x, y, sw = lib.utils.unpack_x_y_sample_weight(data)
            grad_fn = jax.value_and_grad(self.compute_loss_and_updates, has_aux=True)
            (loss, (y_pred, ntv)), grads = grad_fn(tv, ntv, x, y, sw, training=True)
            tv, ov = self.optimizer.stateless_apply(ov, grads, tv)
            mv, logs = self._update_metrics(mv, loss, y, y_pred, sw)
            return logs, (tv, ntv, ov, mv)

        def test_step(self, state, data):
            tv, ntv, mv = state
            x, y, sw = lib.utils.unpack_x_y_sample_weight(data)
            loss, (y_pred, ntv) = self.compute_loss_and_updates(tv, ntv, x, y, sw)
            mv, logs = self._update_metrics(mv, loss, y, y_pred, sw)
            return logs, (tv, ntv, mv)

    return CustomModel


class PureModel(kerax.Model):
    """kerax's pure step doing what the built-in step does (SGD on the compiled loss)."""

    def pure_train_step(self, ts, batch):
        x, y, sw = batch

        def loss_fn(params):
            y_pred, _ = self.apply({"params": params, "state": ts.state}, x, training=True)
            return _bce(y, y_pred, sw)

        loss, grads = jax.value_and_grad(loss_fn)(ts.params)
        params, opt_state = self.optimizer.apply(grads, ts.opt_state, ts.params)
        return ts._replace(params=params, opt_state=opt_state, step=ts.step + 1), {
            "loss": loss}

    def pure_test_step(self, ts, batch):
        x, y, sw = batch
        y_pred, _ = self.apply({"params": ts.params, "state": ts.state}, x)
        return {"loss": _bce(y, y_pred, sw)}


def _bce(y, y_pred, sw):
    loss = kerax.losses.BinaryCrossentropy()
    return loss(y, y_pred, sample_weight=sw)



def _model(lib, kind):
    inputs = lib.Input((3,))
    outputs = lib.layers.Dense(1, activation="sigmoid")(lib.layers.Dense(4)(inputs))
    cls = {"builtin": lib.Model, "keras": _keras_step_model(lib) if kind == "keras" else None,
           "pure": PureModel}[kind]
    model = cls(inputs, outputs)
    # `weighted_metrics`: a Keras-style step passes `sample_weight` to every metric in
    # `self.metrics`; Keras' CompileMetrics drops it for unweighted `metrics`, kerax's
    # flat `model.metrics` cannot (see the report).
    model.compile(optimizer=lib.optimizers.SGD(0.1), loss="binary_crossentropy",
                  weighted_metrics=[] if kind == "pure" else ["mae"])
    return model


class _Batches:
    """The same batches as a PyDataset of either library."""

    def __new__(cls, lib, x, y, sw=None, batch_size=5):
        class DS(lib.utils.PyDataset):
            def __len__(self):
                return -(-len(x) // batch_size)

            def __getitem__(self, i):
                s = slice(i * batch_size, (i + 1) * batch_size)
                return (x[s], y[s]) if sw is None else (x[s], y[s], sw[s])

        return DS()


def _generator(x, y, sw=None, batch_size=5, repeat=1):
    for _ in range(repeat):
        for i in range(0, len(x), batch_size):
            s = slice(i, i + batch_size)
            yield (x[s], y[s]) if sw is None else (x[s], y[s], sw[s])


class _Examples:
    """A grain random-access source of `(x, y)` examples."""

    def __init__(self, x, y):
        self.x, self.y = x, y

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i], self.y[i]


def _grain(x, y, batch_size=5):
    """The same batches as a grain `MapDataset` (skips the test without grain)."""
    grain = pytest.importorskip("grain")
    return grain.MapDataset.source(_Examples(x, y)).batch(batch_size)


# (name, input kind, fit kwargs maker): each runs with shuffle=False, compared with Keras.
CASES = {
    "split_class_weight": lambda lib: dict(x=X, y=Y, batch_size=6, epochs=2,
                                           validation_split=0.25,
                                           class_weight={0: 0.5, 1: 2.0}),
    "val_data_sample_weight_freq": lambda lib: dict(
        x=X, y=Y, sample_weight=SW, batch_size=8, epochs=3, validation_data=(XV, YV),
        validation_freq=2, validation_batch_size=4),
    "steps_per_epoch_initial_epoch": lambda lib: dict(x=X, y=Y, batch_size=4, epochs=3,
                                                      steps_per_epoch=2, initial_epoch=1),
    "py_dataset_val_py_dataset": lambda lib: dict(
        x=_Batches(lib, X, Y, SW), epochs=2, validation_data=_Batches(lib, XV, YV)),
    "py_dataset_class_weight": lambda lib: dict(
        x=_Batches(lib, X, Y), epochs=2, class_weight={0: 0.5, 1: 2.0}),
    "generator_steps_val_steps": lambda lib: dict(
        x=_generator(X, Y, repeat=3), epochs=3, steps_per_epoch=4,
        validation_data=(XV, YV), validation_steps=1, validation_batch_size=4),
    "generator_val_generator_initial_epoch": lambda lib: dict(
        x=_generator(X, Y, repeat=2), epochs=3, steps_per_epoch=4, initial_epoch=1,
        validation_data=_generator(XV, YV, repeat=2, batch_size=3), validation_steps=2),
    "grain_val_grain_freq": lambda lib: dict(
        x=_grain(X, Y), epochs=2, validation_data=_grain(XV, YV, batch_size=4),
        validation_freq=2),
    "grain_steps_per_epoch": lambda lib: dict(x=_grain(X, Y, batch_size=4), epochs=2,
                                              steps_per_epoch=3),
}


def _run(lib, kind, case, weights=None):
    model = _model(lib, kind)
    if weights is not None:
        model.set_weights(weights)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        history = model.fit(shuffle=False, verbose=0, **CASES[case](lib))
    return model, history.history


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("kind", ["builtin", "keras"])
def test_step_kind_matches_keras(keras, kind, case):
    m0 = _model(kerax, kind)  # both runs start from these weights
    km, kh = _run(keras, kind, case, weights=m0.get_weights())
    m, h = _run(kerax, kind, case, weights=m0.get_weights())
    assert sorted(h) == sorted(kh)
    for key in kh:
        np.testing.assert_allclose(h[key], kh[key], rtol=2e-5, atol=1e-6, err_msg=key)
    assert int(m.optimizer.iterations) == int(km.optimizer.iterations)
    for a, b in zip(m.get_weights(), km.get_weights()):
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=1e-6)


PURE_INPUTS = {
    "arrays": lambda: dict(x=X, y=Y, batch_size=5),
    "grain": lambda: dict(x=_grain(X, Y)),
    "py_dataset": lambda: dict(x=_Batches(kerax, X, Y)),
    "generator": lambda: dict(x=_generator(X, Y, repeat=2), steps_per_epoch=4),
}


@pytest.mark.parametrize("inputs", sorted(PURE_INPUTS))
def test_pure_train_step_trains_like_the_builtin_step(inputs):
    """`pure_train_step` doing the built-in step's work gives its weights, iterations and
    (with equal batches, where an epoch mean of batch losses is the same) history,
    validation included."""
    m0 = _model(kerax, "builtin")
    runs = {}
    for kind in ("builtin", "pure"):
        model = _model(kerax, kind)
        model.set_weights(m0.get_weights())
        history = model.fit(epochs=2, shuffle=False, verbose=0, validation_data=(XV, YV),
                            validation_batch_size=6, **PURE_INPUTS[inputs]())
        runs[kind] = model, history.history
    (bm, bh), (pm, ph) = runs["builtin"], runs["pure"]
    assert sorted(ph) == ["loss", "val_loss"]
    np.testing.assert_allclose(ph["loss"], bh["loss"], rtol=1e-5)
    np.testing.assert_allclose(ph["val_loss"], bh["val_loss"], rtol=1e-5)
    for a, b in zip(pm.get_weights(), bm.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert int(pm.optimizer.iterations) == int(bm.optimizer.iterations) == 8


def test_pure_train_step_validation_split_and_class_weight():
    m0 = _model(kerax, "builtin")
    runs = {}
    for kind in ("builtin", "pure"):
        model = _model(kerax, kind)
        model.set_weights(m0.get_weights())
        history = model.fit(X, Y, batch_size=5, epochs=2, validation_split=0.25,
                            class_weight={0: 0.5, 1: 2.0}, shuffle=False, verbose=0)
        runs[kind] = model, history.history
    (bm, bh), (pm, ph) = runs["builtin"], runs["pure"]
    np.testing.assert_allclose(ph["val_loss"], bh["val_loss"], rtol=1e-5)
    for a, b in zip(pm.get_weights(), bm.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert int(pm.optimizer.iterations) == 6  # 15 training rows: 3 batches per epoch


COMPILE_INPUTS = {
    "arrays": lambda: dict(x=X, y=Y, batch_size=6),
    "py_dataset": lambda: dict(x=_Batches(kerax, X, Y, batch_size=6)),
    "generator": lambda: dict(x=_generator(X, Y, batch_size=6, repeat=3), steps_per_epoch=4),
    "grain": lambda: dict(x=_grain(X, Y, batch_size=6)),
}


@pytest.mark.parametrize("inputs", sorted(COMPILE_INPUTS))
@pytest.mark.parametrize("kind", ["builtin", "keras", "pure"])
def test_no_epoch_after_the_first_compiles(kind, inputs):
    """Uneven batches (20 rows in batches of 6): the short last batch of a custom step
    runs at its real size, compiled in the first epoch only, for every input kind."""
    model = _model(kerax, kind)
    model.fit(epochs=3, verbose=0, validation_data=(XV, YV), **COMPILE_INPUTS[inputs]())
    compiles = [e["compiles"] for e in model.compile_stats]
    assert compiles[0] > 0 and compiles[1:] == [0, 0], model.compile_stats


@pytest.mark.parametrize("kind", ["keras", "pure"])
def test_a_stream_compiles_nothing_on_a_second_fit(kind):
    model = _model(kerax, kind)
    model.fit(_Batches(kerax, X, Y, batch_size=6), epochs=1, verbose=0)
    with compile_cache.track() as compiled:
        model.fit(_Batches(kerax, X, Y, batch_size=6), epochs=2, verbose=0)
    assert compiled.compiles == 0


def test_keras_step_sees_the_data_keras_passes(keras):
    """`x`, `(x, y)`, `(x, y, sample_weight)`: the structure and shapes of `data`."""
    seen = {}

    def record(lib):
        base = _keras_step_model(lib)

        class Recording(base):
            def train_step(self, state, data):
                seen.setdefault(lib.__name__, []).append(jax.tree_util.tree_map(
                    lambda a: tuple(a.shape), data))
                return super().train_step(state, data)

        inputs = lib.Input((3,))
        model = Recording(inputs, lib.layers.Dense(1)(inputs))
        model.compile(optimizer="sgd", loss="mse")
        return model

    for lib in (keras, kerax):
        model = record(lib)
        model.fit(X, Y, batch_size=8, epochs=1, shuffle=False, verbose=0)
        model.fit(X, Y, sample_weight=SW, batch_size=8, epochs=1, shuffle=False, verbose=0)
    assert set(seen["kerax"]) == set(seen["keras"])  # recorded per trace
    assert seen["kerax"][-1] == ((4, 3), (4, 1), (4,))  # the last batch at its real size


def test_keras_predict_step_returns_outputs_and_state(keras):
    def build(lib):
        class M(lib.Model):
            def predict_step(self, state, data):
                tv, ntv = state
                y, ntv = self.stateless_call(tv, ntv, data)
                return {"doubled": 2 * y}, ntv

        inputs = lib.Input((3,))
        return M(inputs, lib.layers.Dense(2)(inputs))

    km, m = build(keras), build(kerax)
    m.set_weights(km.get_weights())
    want = km.predict(X, batch_size=8, verbose=0)
    got = m.predict(X, batch_size=8, verbose=0)
    # rtol as the neighbouring tests: XLA:CPU's float32 matmul may round one element 1 ulp
    # apart depending on buffer alignment (seen at 2.7e-6 relative on a value of 0.04, and
    # 2.8e-8 absolute on a value of 5e-4, where rtol alone is too tight).
    np.testing.assert_allclose(got["doubled"], want["doubled"], rtol=1e-5, atol=1e-7)


def test_custom_test_step_must_return_dict_logs():
    class M(kerax.Model):
        def test_step(self, state, data):
            x, y = data
            tv, ntv, mv = state
            y_pred, ntv = self.stateless_call(tv, ntv, x)
            return ((y - y_pred) ** 2).mean(), (tv, ntv, mv)

    inputs = kerax.Input((3,))
    model = M(inputs, kerax.layers.Dense(1)(inputs))
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(TypeError, match="`test_step` must return its logs as a dict"):
        model.evaluate(X, Y, verbose=0)


def test_keras_train_step_with_steps_per_execution_and_callbacks(keras):
    """An explicit `steps_per_execution` runs K custom steps per dispatch, with the same
    result as Keras (which loops over them)."""
    m0 = _model(kerax, "keras")
    out = []
    for lib in (keras, kerax):
        model = _model(lib, "keras")
        model.set_weights(m0.get_weights())
        model.compile(optimizer=lib.optimizers.SGD(0.1), loss="binary_crossentropy",
                      weighted_metrics=["mae"], steps_per_execution=2)
        history = model.fit(X, Y, batch_size=4, epochs=2, shuffle=False, verbose=0)
        out.append((history.history, model.get_weights(), int(model.optimizer.iterations)))
    (kh, kw, ki), (h, w, i) = out
    np.testing.assert_allclose(h["loss"], kh["loss"], rtol=2e-5)
    assert i == ki == 10
    for a, b in zip(w, kw):
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=1e-6)


def test_class_weight_with_a_generator_fails_as_in_keras(keras):
    for lib in (keras, kerax):
        model = _model(lib, "builtin")
        with pytest.raises(ValueError, match="`class_weight` is not supported for Python "
                                             "generator"):
            model.fit(_generator(X, Y), class_weight={0: 1.0, 1: 2.0}, verbose=0)


def _super_step_model(lib):
    class Logged(lib.Model):
        def train_step(self, state, data):
            logs, state = super().train_step(state, data)
            return logs, state

        def test_step(self, state, data):
            return super().test_step(state, data)

    inputs = lib.Input((3,))
    outputs = lib.layers.Dense(1, activation="sigmoid")(lib.layers.Dense(4)(inputs))
    model = Logged(inputs, outputs)
    model.compile(optimizer=lib.optimizers.SGD(0.1), loss="binary_crossentropy",
                  metrics=["mae"], weighted_metrics=["mse"])
    return model


@pytest.mark.parametrize("data", ["arrays", "py_dataset"])
def test_keras_subclass_calling_super_train_step_matches_keras(keras, data):
    """`super().train_step(state, data)` / `super().test_step` run Keras 3's default JAX
    steps: the same history (metrics, weighted metrics, validation), iterations and
    weights as Keras."""
    weights = _super_step_model(kerax).get_weights()
    out = []
    for lib in (keras, kerax):
        model = _super_step_model(lib)
        model.set_weights(weights)
        if data == "arrays":
            args = dict(x=X, y=Y, sample_weight=SW, batch_size=6)
        else:
            args = dict(x=_Batches(lib, X, Y, SW, batch_size=6))
        history = model.fit(epochs=2, shuffle=False, verbose=0, validation_data=(XV, YV),
                            **args)
        out.append((history.history, model.get_weights(), int(model.optimizer.iterations)))
    (kh, kw, ki), (h, w, i) = out
    assert sorted(h) == sorted(kh) and i == ki
    for key in kh:
        np.testing.assert_allclose(h[key], kh[key], rtol=2e-5, atol=1e-6, err_msg=key)
    for a, b in zip(w, kw):
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=1e-6)


def test_nan_guard_of_a_custom_step_without_a_loss_key():
    """A Keras-style step whose logs have no "loss" key is still guarded: a non-finite
    log stops training with the weights from before that step."""

    class NoLossKey(kerax.Model):
        def train_step(self, state, data):
            logs, state = super().train_step(state, data)
            return {"objective": logs["loss"]}, state

    inputs = kerax.Input((3,))
    model = NoLossKey(inputs, kerax.layers.Dense(1)(inputs))
    model.compile(optimizer="sgd", loss="mse")
    bad = X.copy()
    bad[10:] = np.nan  # the third batch of 5 has NaN inputs
    model.fit(X[:10], Y[:10], batch_size=5, epochs=1, shuffle=False, verbose=0)
    with pytest.raises(kerax.errors.NonFiniteLossError, match="training step 4"):
        model.fit(bad, Y, batch_size=5, epochs=1, shuffle=False, verbose=0,
                  callbacks=[kerax.callbacks.LambdaCallback()])
    weights = model.get_weights()
    assert all(np.isfinite(w).all() for w in weights)
    assert int(model.optimizer.iterations) == 4  # the 2 steps before the bad one


def test_a_custom_step_without_floating_logs_says_it_cannot_be_guarded():
    class Counting(kerax.Model):
        def train_step(self, state, data):
            _, state = super().train_step(state, data)
            return {"seen": jax.numpy.asarray(1, "int32")}, state

    inputs = kerax.Input((3,))
    model = Counting(inputs, kerax.layers.Dense(1)(inputs))
    model.compile(optimizer="sgd", loss="mse")
    with pytest.warns(UserWarning, match="returns no floating-point logs .* cannot detect a "
                                         "NaN"):
        model.fit(X, Y, batch_size=5, epochs=1, verbose=0)
    assert int(model.optimizer.iterations) == 4
