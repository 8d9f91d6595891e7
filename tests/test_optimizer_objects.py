"""Keras' optimizer and metric objects on kerax: `optimizer.variables`, `iterations`,
`learning_rate`, `build(model.trainable_variables)`, `stateless_apply` over Keras' lists,
metric variables; each run on Keras 3 (JAX backend) and on kerax and compared."""

import re

import jax
import numpy as np
import pytest

import kerax


def _values(variables):
    return [v.value for v in variables]


def _weights(rng, model):
    return [rng.normal(size=w.shape).astype("float32") * 0.3 for w in model.get_weights()]


# ------------------------------------------ the "training loop from scratch in JAX" guide --
def _guide_loop(keras, initial, x, y, y_val):
    """The code cells of keras.io's guide "Writing a training loop from scratch in JAX"
    (guides/writing_a_custom_training_loop_in_jax.py), MNIST replaced by small arrays.

    One change, the same for both libraries: the state lists hold `v.value`, since jax
    0.10 refuses objects with `__jax_array__` as `jax.jit` arguments (Keras fails too).
    """

    def get_model():
        inputs = keras.Input(shape=(8,), name="digits")
        x1 = keras.layers.Dense(6, activation="relu")(inputs)
        x2 = keras.layers.Dense(6, activation="relu")(x1)
        outputs = keras.layers.Dense(3, name="predictions")(x2)
        return keras.Model(inputs=inputs, outputs=outputs)

    model = get_model()
    model.set_weights(initial)
    optimizer = keras.optimizers.Adam(learning_rate=1e-2)
    loss_fn = keras.losses.CategoricalCrossentropy(from_logits=True)
    train_acc_metric = keras.metrics.CategoricalAccuracy()
    val_acc_metric = keras.metrics.CategoricalAccuracy()

    def compute_loss_and_updates(trainable_variables, non_trainable_variables,
                                 metric_variables, x, y):
        y_pred, non_trainable_variables = model.stateless_call(
            trainable_variables, non_trainable_variables, x)
        loss = loss_fn(y, y_pred)
        metric_variables = train_acc_metric.stateless_update_state(metric_variables, y, y_pred)
        return loss, (non_trainable_variables, metric_variables)

    grad_fn = jax.value_and_grad(compute_loss_and_updates, has_aux=True)

    @jax.jit
    def train_step(state, data):
        trainable_variables, non_trainable_variables, optimizer_variables, metric_variables = (
            state)
        x, y = data
        (loss, (non_trainable_variables, metric_variables)), grads = grad_fn(
            trainable_variables, non_trainable_variables, metric_variables, x, y)
        trainable_variables, optimizer_variables = optimizer.stateless_apply(
            optimizer_variables, grads, trainable_variables)
        return loss, (trainable_variables, non_trainable_variables, optimizer_variables,
                      metric_variables)

    @jax.jit
    def eval_step(state, data):
        trainable_variables, non_trainable_variables, metric_variables = state
        x, y = data
        y_pred, non_trainable_variables = model.stateless_call(
            trainable_variables, non_trainable_variables, x)
        loss = loss_fn(y, y_pred)
        metric_variables = val_acc_metric.stateless_update_state(metric_variables, y, y_pred)
        return loss, (trainable_variables, non_trainable_variables, metric_variables)

    optimizer.build(model.trainable_variables)
    state = (_values(model.trainable_variables), _values(model.non_trainable_variables),
             _values(optimizer.variables), _values(train_acc_metric.variables))
    train_log = []
    for step in range(4):
        data = (x[step * 5:(step + 1) * 5], y[step * 5:(step + 1) * 5])
        loss, state = train_step(state, data)
        if step % 2 == 0:
            _, _, _, metric_variables = state
            for variable, value in zip(train_acc_metric.variables, metric_variables):
                variable.assign(value)
            train_log.append((float(loss), float(train_acc_metric.result())))

    trainable_variables, non_trainable_variables, optimizer_variables, metric_variables = state
    state = trainable_variables, non_trainable_variables, _values(val_acc_metric.variables)
    for step in range(2):
        loss, state = eval_step(state, (x[step * 10:(step + 1) * 10],
                                        y_val[step * 10:(step + 1) * 10]))
    _, _, metric_variables = state
    for variable, value in zip(val_acc_metric.variables, metric_variables):
        variable.assign(value)

    for variable, value in zip(model.trainable_variables, trainable_variables):
        variable.assign(value)
    for variable, value in zip(model.non_trainable_variables, non_trainable_variables):
        variable.assign(value)
    for variable, value in zip(optimizer.variables, optimizer_variables):
        variable.assign(value)
    return {
        "train_log": train_log,
        "val_acc": float(val_acc_metric.result()),
        "weights": model.get_weights(),
        "optimizer": [(v.name, np.asarray(v)) for v in optimizer.variables],
        "iterations": int(optimizer.iterations),
    }


def test_custom_training_loop_guide_matches_keras(keras, rng):
    x = rng.normal(size=(20, 8)).astype("float32")
    y = np.eye(3, dtype="float32")[rng.integers(0, 3, 20)]
    y_val = np.eye(3, dtype="float32")[rng.integers(0, 3, 20)]
    ref_model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(6),
                                  keras.layers.Dense(6), keras.layers.Dense(3)])
    initial = _weights(rng, ref_model)
    want = _guide_loop(keras, initial, x, y, y_val)
    got = _guide_loop(kerax, initial, x, y, y_val)
    np.testing.assert_allclose(got["train_log"], want["train_log"], rtol=1e-5, atol=1e-6)
    assert got["val_acc"] == pytest.approx(want["val_acc"])
    for a, b in zip(got["weights"], want["weights"]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert got["iterations"] == want["iterations"] == 4
    assert len(got["optimizer"]) == len(want["optimizer"])
    for (_, a), (_, b) in zip(got["optimizer"], want["optimizer"]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def _guide_first_loop_and_losses(keras, initial, x, y):
    """The guide's first end-to-end loop (no metrics) and its `return_losses=True` cell."""
    inputs = keras.Input(shape=(8,), name="digits")
    x1 = keras.layers.Dense(6, activation="relu")(inputs)
    x2 = keras.layers.Dense(6, activation="relu")(x1)
    outputs = keras.layers.Dense(3, name="predictions")(x2)
    model = keras.Model(inputs=inputs, outputs=outputs)
    model.set_weights(initial)
    loss_fn = keras.losses.CategoricalCrossentropy(from_logits=True)
    optimizer = keras.optimizers.Adam(learning_rate=1e-3)

    def compute_loss_and_updates(trainable_variables, non_trainable_variables, x, y):
        y_pred, non_trainable_variables = model.stateless_call(
            trainable_variables, non_trainable_variables, x)
        loss = loss_fn(y, y_pred)
        return loss, non_trainable_variables

    grad_fn = jax.value_and_grad(compute_loss_and_updates, has_aux=True)

    @jax.jit
    def train_step(state, data):
        trainable_variables, non_trainable_variables, optimizer_variables = state
        x, y = data
        (loss, non_trainable_variables), grads = grad_fn(
            trainable_variables, non_trainable_variables, x, y)
        trainable_variables, optimizer_variables = optimizer.stateless_apply(
            optimizer_variables, grads, trainable_variables)
        return loss, (trainable_variables, non_trainable_variables, optimizer_variables)

    optimizer.build(model.trainable_variables)
    state = (_values(model.trainable_variables), _values(model.non_trainable_variables),
             _values(optimizer.variables))
    losses = []
    for step in range(4):
        loss, state = train_step(state, (x[step * 5:(step + 1) * 5], y[step * 5:(step + 1) * 5]))
        losses.append(float(loss))
    trainable_variables, non_trainable_variables, optimizer_variables = state
    for variable, value in zip(model.trainable_variables, trainable_variables):
        variable.assign(value)
    for variable, value in zip(model.non_trainable_variables, non_trainable_variables):
        variable.assign(value)

    class ActivityRegularizationLayer(keras.layers.Layer):
        def call(self, inputs):
            self.add_loss(1e-2 * jax.numpy.sum(inputs))
            return inputs

    inputs = keras.Input(shape=(8,), name="digits")
    h = keras.layers.Dense(6, activation="relu")(inputs)
    h = ActivityRegularizationLayer()(h)
    h = keras.layers.Dense(6, activation="relu")(h)
    outputs = keras.layers.Dense(3, name="predictions")(h)
    reg_model = keras.Model(inputs=inputs, outputs=outputs)
    reg_model.set_weights(initial)
    train_acc_metric = keras.metrics.CategoricalAccuracy()

    def compute_loss_and_updates_with_losses(trainable_variables, non_trainable_variables,
                                             metric_variables, x, y):
        y_pred, non_trainable_variables, losses = reg_model.stateless_call(
            trainable_variables, non_trainable_variables, x, return_losses=True)
        loss = loss_fn(y, y_pred)
        if losses:  # the guide's `jax.numpy.sum(losses)`: jax 0.10 refuses a list (Keras too)
            loss += jax.numpy.sum(jax.numpy.stack(losses))
        metric_variables = train_acc_metric.stateless_update_state(metric_variables, y, y_pred)
        return loss, non_trainable_variables, metric_variables

    reg_loss, _, metric_variables = jax.jit(compute_loss_and_updates_with_losses)(
        _values(reg_model.trainable_variables), _values(reg_model.non_trainable_variables),
        _values(train_acc_metric.variables), x, y)
    return (losses, model.get_weights(), [np.asarray(v) for v in optimizer.variables],
            float(reg_loss), float(train_acc_metric.stateless_result(metric_variables)))


def test_guide_first_loop_and_return_losses_cell_match_keras(keras, rng):
    x = rng.normal(size=(20, 8)).astype("float32")
    y = np.eye(3, dtype="float32")[rng.integers(0, 3, 20)]
    ref_model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(6),
                                  keras.layers.Dense(6), keras.layers.Dense(3)])
    initial = _weights(rng, ref_model)
    got = _guide_first_loop_and_losses(kerax, initial, x, y)
    want = _guide_first_loop_and_losses(keras, initial, x, y)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-5)
    for a, b in zip(got[1], want[1]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert len(got[2]) == len(want[2]) == 14
    for a, b in zip(got[2], want[2]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
    assert got[3:] == pytest.approx(want[3:], rel=1e-5)


def test_functional_optimizer_variable_names_match_keras(keras):
    def run(lib):
        inputs = lib.Input((3,))
        model = lib.Model(inputs, lib.layers.Dense(2, name="d1")(inputs))
        opt = lib.optimizers.Adam()
        opt.build(model.trainable_variables)
        return [v.name for v in opt.variables]

    assert run(kerax) == run(keras)


def test_optimizer_and_metric_variables_go_through_jit_as_they_are():
    """As Keras' JAX variables: `optimizer.variables`/`metric.variables` are jit arguments."""
    opt = kerax.optimizers.SGD(learning_rate=0.1, momentum=0.9)
    w = [np.ones((2,), "float32")]
    opt.build(w)
    metric = kerax.metrics.Mean()

    @jax.jit
    def step(opt_vars, metric_vars, params):
        params, opt_vars = opt.stateless_apply(opt_vars, [np.ones((2,), "float32")], params)
        return params, opt_vars, metric.stateless_update_state(metric_vars, params[0])

    params, opt_vars, metric_vars = step(opt.variables, metric.variables, w)
    np.testing.assert_allclose(params[0], [0.9, 0.9])
    assert int(opt_vars[0]) == 1
    np.testing.assert_allclose(opt_vars[2], [-0.1, -0.1])
    assert float(metric.stateless_result(metric_vars)) == pytest.approx(0.9)


# ------------------------------------------------------------- optimizer.variables --
OPTIMIZERS = [
    ("Adam", {}), ("AdamW", {}), ("Adam", {"amsgrad": True}), ("SGD", {}),
    ("SGD", {"momentum": 0.9}), ("SGD", {"momentum": 0.9, "nesterov": True}),
    ("RMSprop", {}), ("RMSprop", {"momentum": 0.5, "centered": True}), ("Adagrad", {}),
    ("Adadelta", {}), ("Adamax", {}), ("Nadam", {}), ("Ftrl", {}), ("Lion", {}), ("Lamb", {}),
    ("Adam", {"use_ema": True, "gradient_accumulation_steps": 2}),
]


def _describe(opt):
    # Keras names Nadam's `u_product` with a global counter ('variable', 'variable_2', ...).
    return [(re.sub(r"^variable_\d+$", "variable", v.name), tuple(v.shape), str(v.dtype))
            for v in opt.variables]


@pytest.mark.parametrize("name,kwargs", OPTIMIZERS,
                         ids=[f"{n}-{'-'.join(k) or 'default'}" for n, k in OPTIMIZERS])
def test_variables_after_build_match_keras(keras, name, kwargs):
    def run(lib):
        model = lib.Sequential([lib.Input((3,)), lib.layers.Dense(2, name="d")], name="seq")
        opt = getattr(lib.optimizers, name)(name="opt", **kwargs)
        before = _describe(opt)
        opt.build(model.trainable_variables)
        return before, _describe(opt), [v.path for v in opt.variables][:2]

    assert run(kerax) == run(keras)


def test_variables_with_a_schedule_match_keras(keras):
    def run(lib):
        model = lib.Sequential([lib.Input((3,)), lib.layers.Dense(2, name="d")], name="seq")
        schedule = lib.optimizers.schedules.ExponentialDecay(0.1, 10, 0.9)
        opt = lib.optimizers.SGD(learning_rate=schedule, momentum=0.5)
        opt.build(model.trainable_variables)
        return _describe(opt)

    assert run(kerax) == run(keras)


def _fit_twice(lib, make_opt, initial, x, y, between):
    model = lib.Sequential([lib.Input((4,)), lib.layers.BatchNormalization(name="bn"),
                            lib.layers.Dense(3, activation="relu", name="a"),
                            lib.layers.Dense(2, name="b")], name="seq")
    model.set_weights(initial)
    model.compile(make_opt(lib), "mse")
    model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    opt = model.optimizer
    first = ([(v.name, np.asarray(v)) for v in opt.variables], int(opt.iterations),
             float(opt.learning_rate), opt.learning_rate.numpy().item())
    between(opt)
    model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    second = ([(v.name, np.asarray(v)) for v in opt.variables], int(opt.iterations),
              float(opt.learning_rate))
    return first, second, model.get_weights()


def _assign_lr(opt):
    opt.learning_rate.assign(1e-4)


def _set_lr(opt):
    opt.learning_rate = 0.01


def _assign_iterations(opt):
    opt.iterations.assign(100)


MAKERS = {
    "adam": lambda lib: lib.optimizers.Adam(learning_rate=0.01),
    "sgd_momentum": lambda lib: lib.optimizers.SGD(learning_rate=0.05, momentum=0.9),
    "rmsprop": lambda lib: lib.optimizers.RMSprop(learning_rate=0.01),
    "adamw": lambda lib: lib.optimizers.AdamW(learning_rate=0.01),
}


@pytest.mark.parametrize("maker", sorted(MAKERS))
@pytest.mark.parametrize("between", [_assign_lr, _set_lr, _assign_iterations],
                         ids=["lr.assign", "lr=", "iterations.assign"])
def test_variables_live_after_fit_and_settable_between_fits(keras, rng, maker, between):
    x = rng.normal(size=(8, 4)).astype("float32")
    y = rng.normal(size=(8, 2)).astype("float32")
    probe = keras.Sequential([keras.Input((4,)), keras.layers.BatchNormalization(),
                              keras.layers.Dense(3), keras.layers.Dense(2)])
    initial = _weights(rng, probe)
    got = _fit_twice(kerax, MAKERS[maker], initial, x, y, between)
    want = _fit_twice(keras, MAKERS[maker], initial, x, y, between)
    for g, w in zip(got[:2], want[:2]):
        assert [n for n, _ in g[0]] == [n for n, _ in w[0]]
        for (_, a), (_, b) in zip(g[0], w[0]):
            np.testing.assert_allclose(a, b, rtol=2e-5, atol=1e-6)
        assert g[1:] == pytest.approx(w[1:])
    for a, b in zip(got[2], want[2]):
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=1e-6)


def test_iterations_and_learning_rate_are_variables(keras):
    def run(lib):
        opt = lib.optimizers.Adam(learning_rate=0.5, name="opt")
        it, lr = opt.iterations, opt.learning_rate
        lr.assign(0.25)
        it.assign(3)
        return (it.name, it.path, lr.name, lr.path, int(it), float(lr), lr.numpy().item(),
                str(lr.dtype), str(it.dtype), tuple(lr.shape), float(lr * 2),
                float(opt.learning_rate), int(opt.iterations))

    assert run(kerax) == run(keras)


def test_assign_of_a_wrong_shape_is_refused():
    opt = kerax.optimizers.SGD(momentum=0.9)
    opt.build([np.zeros((2, 3), "float32")])
    with pytest.raises(ValueError, match=r"shape \(3,\) to optimizer variable 'sgd.*/0_momentum'"
                                         r" of shape \(2, 3\)"):
        opt.variables[2].assign(np.zeros(3))


def test_stateless_apply_with_a_wrong_number_of_variables_names_them():
    opt = kerax.optimizers.Adam()
    w = [np.zeros((2,), "float32")]
    opt.build(w)
    with pytest.raises(ValueError, match=r"`optimizer_variables` has 2 arrays, but this "
                                         r"optimizer has 4 \(\['iteration', 'learning_rate', "
                                         r"'0_momentum', '0_velocity'\]\)"):
        opt.stateless_apply(opt.variables[:2], w, w)


def test_reading_a_slot_of_an_unbuilt_optimizer_says_to_build_it():
    opt = kerax.optimizers.Adam()
    with pytest.raises(ValueError, match=r"not built, so it has no variable 'x'.*"
                                         r"optimizer.build\(model.trainable_variables\)"):
        opt._read_variable("x")


def test_learning_rate_set_before_a_rebuild_is_kept():
    opt = kerax.optimizers.SGD(learning_rate=0.1)
    opt.build([np.zeros((2,), "float32")])
    opt.learning_rate.assign(0.3)
    opt.build({"w": np.zeros((2,), "float32")})
    assert float(opt.learning_rate) == pytest.approx(0.3)


@pytest.mark.parametrize("maker", ["adam", "sgd_momentum"])
def test_summary_counts_optimizer_params_as_keras(keras, rng, maker):
    def run(lib):
        model = lib.Sequential([lib.Input((4,)), lib.layers.Dense(3), lib.layers.Dense(2)])
        model.compile(MAKERS[maker](lib), "mse")
        model.fit(np.ones((4, 4)), np.ones((4, 2)), verbose=0)
        lines = []
        model.summary(print_fn=lambda line, *a, **k: lines.append(line))
        text = "\n".join(lines)
        return [ln.strip() for ln in text.splitlines() if "params:" in ln]

    assert run(kerax) == run(keras)


# ------------------------------------------------------------------- metric objects --
def test_metric_variables_match_keras(keras):
    def run(lib):
        out = []
        for m in (lib.metrics.Mean(), lib.metrics.Sum(), lib.metrics.CategoricalAccuracy(),
                  lib.metrics.MeanSquaredError(),
                  lib.metrics.AUC(num_thresholds=5, name="auc"),  # else a global counter
                  lib.metrics.Precision(name="precision")):
            out.append((m.name, [(v.name, tuple(v.shape)) for v in m.variables]))
        return out

    assert run(kerax) == run(keras)


Y_TRUE = np.array([[0, 1], [1, 0], [1, 0], [0, 1]], "float32")
Y_PRED = np.array([[0.2, 0.8], [0.6, 0.4], [0.3, 0.7], [0.1, 0.9]], "float32")
METRICS = {
    "Mean": (lambda lib: lib.metrics.Mean(), ([1.0, 2.0, 6.0], [1.0, 1.0, 0.5]), ([10.0],)),
    "CategoricalAccuracy": (lambda lib: lib.metrics.CategoricalAccuracy(),
                            (Y_TRUE, Y_PRED, [1.0, 0.5, 1.0, 1.0]), (Y_TRUE[:2], Y_PRED[2:])),
    "AUC": (lambda lib: lib.metrics.AUC(num_thresholds=7),
            (Y_TRUE[:, 1], Y_PRED[:, 1]), (Y_TRUE[:, 0], Y_PRED[:, 1])),
    "Precision": (lambda lib: lib.metrics.Precision(),
                  (Y_TRUE[:, 1], Y_PRED[:, 1]), (Y_TRUE[:, 0], Y_PRED[:, 1])),
}


@pytest.mark.parametrize("which", sorted(METRICS))
def test_metric_stateful_and_stateless_methods_match_keras(keras, which):
    make, first_args, second_args = METRICS[which]

    def run(lib):
        m = make(lib)
        if which == "Mean":
            m.update_state(first_args[0], sample_weight=first_args[1])
        else:
            weights = first_args[2] if len(first_args) > 2 else None
            m.update_state(*first_args[:2], sample_weight=weights)
        first = (float(m.result()), [np.asarray(v).tolist() for v in m.variables],
                 [v.numpy().tolist() for v in m.variables])
        state = m.stateless_update_state(_values(m.variables), *second_args)
        stateless = (float(m.stateless_result(state)), float(m.result()))
        for v, value in zip(m.variables, state):
            v.assign(value)
        assigned = float(m.result())
        reset = [np.asarray(x).tolist() for x in m.stateless_reset_state()]
        m.reset_state()
        return first, stateless, assigned, reset, float(m.result()), [v.name for v in m.variables]

    got, want = run(kerax), run(keras)
    assert got[5] == want[5]
    assert got[0][0] == pytest.approx(want[0][0], rel=1e-6)
    for a, b in zip(got[0][1] + got[0][2], want[0][1] + want[0][2]):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    assert [*got[1], got[2]] == pytest.approx([*want[1], want[2]], rel=1e-6)
    assert got[3] == want[3] and got[4] == want[4]


def test_model_metric_variable_names_match_keras(keras):
    def run(lib):
        model = lib.Sequential([lib.Input((3,)), lib.layers.Dense(2, name="d")], name="seq")
        model.compile("sgd", "mse", metrics=["mae"])
        model.fit(np.ones((4, 3)), np.ones((4, 2)), verbose=0)
        return [[v.name for v in m.variables] for m in model.metrics]

    assert run(kerax) == run(keras)


def test_model_metric_variables_after_fit_match_keras(keras, rng):
    x, y = rng.normal(size=(8, 3)), rng.normal(size=(8, 2))

    def run(lib):
        model = lib.Sequential([lib.Input((3,)), lib.layers.Dense(2, name="d")], name="seq")
        model.set_weights([np.full((3, 2), 0.1, "float32"), np.zeros(2, "float32")])
        model.compile("sgd", "mse", metrics=["mae"])
        model.fit(x, y, batch_size=4, shuffle=False, verbose=0)
        loss = model.metrics[0]
        return (loss.name, [(v.name, float(v)) for v in loss.variables],
                float(loss.result()), [m.name for m in model.metrics])

    got, want = run(kerax), run(keras)
    assert got[0] == want[0] and [n for n, _ in got[1]] == [n for n, _ in want[1]]
    np.testing.assert_allclose([v for _, v in got[1]], [v for _, v in want[1]], rtol=1e-5)
    assert got[2] == pytest.approx(want[2], rel=1e-5)
    assert got[3] == want[3]


def test_weight_decay_exclusions_apply_in_a_keras_style_loop(keras):
    def run(lib):
        model = lib.Sequential([lib.Input((3,)), lib.layers.Dense(2, name="d")], name="seq")
        model.set_weights([np.full((3, 2), 0.5, "float32"), np.full((2,), 0.5, "float32")])
        opt = lib.optimizers.AdamW(learning_rate=0.1, weight_decay=0.5)
        opt.exclude_from_weight_decay(var_names=["bias"])
        opt.build(model.trainable_variables)
        params = _values(model.trainable_variables)
        grads = [np.ones((3, 2), "float32"), np.ones((2,), "float32")]
        params, _ = opt.stateless_apply(_values(opt.variables), grads, params)
        return [np.asarray(p) for p in params]

    for a, b in zip(run(kerax), run(keras)):
        np.testing.assert_allclose(a, b, rtol=1e-6)


@pytest.mark.parametrize("form", ["apply_gradients", "apply", "apply_built"])
def test_eager_apply_gradients_matches_keras(keras, rng, form):
    x = rng.normal(size=(6, 3)).astype("float32")
    y = rng.normal(size=(6, 2)).astype("float32")
    initial = [rng.normal(size=(3, 2)).astype("float32"), np.zeros(2, "float32")]

    def run(lib):
        model = lib.Sequential([lib.Input((3,)), lib.layers.Dense(2, name="d")], name="seq")
        model.set_weights(initial)
        opt = lib.optimizers.Adam(learning_rate=0.1)
        if form == "apply_built":
            opt.build(model.trainable_variables)

        def loss_fn(values):
            y_pred, _ = model.stateless_call(values, [], x)
            return jax.numpy.mean((y_pred - y) ** 2)

        for _ in range(3):
            grads = jax.grad(loss_fn)(_values(model.trainable_variables))
            if form == "apply_gradients":
                opt.apply_gradients(zip(grads, model.trainable_variables))
            elif form == "apply":
                opt.apply(grads, model.trainable_variables)
            else:
                opt.apply(grads)
        return model.get_weights(), int(opt.iterations), [np.asarray(v) for v in opt.variables]

    got, want = run(kerax), run(keras)
    for a, b in zip(got[0] + got[2], want[0] + want[2]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
    assert got[1] == want[1] == 3


def test_apply_with_a_wrong_number_of_gradients_says_so():
    layer = kerax.layers.Dense(1)
    layer(np.ones((1, 2), "float32"))
    with pytest.raises(ValueError, match="received 1 gradients for 2 variables"):
        kerax.optimizers.SGD().apply([np.ones((2, 1))], layer.weights)
    with pytest.raises(ValueError, match=r"not built for a list of variables, pass "
                                         r"`trainable_variables`"):
        kerax.optimizers.SGD().apply([np.ones((2, 1))])
