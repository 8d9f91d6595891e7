"""kerax.optimizers against Keras 3: same weights, same 20 gradients, same final weights."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kerax.optimizers as kopt
import kerax.optimizers.schedules  # noqa: F401
from kerax import errors

SHAPES = {"dense": {"bias": (3,), "kernel": (4, 3)}, "embedding": {"embeddings": (5, 2)}}
STEPS = 20


class Sched:
    """A schedule spec built the same way in Keras and in kerax."""

    def __init__(self, name, **kwargs):
        self.name, self.kwargs = name, kwargs

    def build(self, module):
        return getattr(module.schedules, self.name)(**self.kwargs)


def build(module, name, kwargs):
    """`module` is `keras` or `kerax.optimizers`' parent; both expose `.optimizers`."""
    module = getattr(module, "optimizers", module)
    kwargs = {k: v.build(module) if isinstance(v, Sched) else v for k, v in kwargs.items()}
    exclude = kwargs.pop("exclude", None)
    opt = getattr(module, name)(**kwargs)
    if exclude:
        opt.exclude_from_weight_decay(var_names=exclude)
    return opt


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    params = jax.tree_util.tree_map(
        lambda s: rng.normal(size=s).astype("float32"), SHAPES,
        is_leaf=lambda x: isinstance(x, tuple))
    grads = [jax.tree_util.tree_map(lambda p: (rng.normal(size=p.shape) * 2).astype("float32"),
                                    params) for _ in range(STEPS)]
    return params, grads


def run_kerax(opt, params, grads, jit=False):
    # Eager by default: eager ops are compiled once per shape and shared by every case,
    # where a jitted step would compile one program per case (test_jit_matches_eager).
    state = opt.init(params)
    step = jax.jit(opt.apply) if jit else opt.apply
    for g in grads:
        params, state = step(g, state, params)
    return params, state


def run_keras(keras, opt, params, grads):
    flat, treedef = jax.tree_util.tree_flatten_with_path(params)
    variables = []
    for path, value in flat:
        *scope, name = [k.key for k in path]
        with keras.name_scope("/".join(scope)):
            variables.append(keras.Variable(np.asarray(value), name=name))
    if getattr(opt, "gradient_accumulation_steps", None) or hasattr(opt, "inner_optimizer"):
        # Keras' eager `lax.cond` retraces at every step: use its stateless API, jitted.
        opt.build(variables)
        step = jax.jit(opt.stateless_apply)
        values, opt_values = [v.value for v in variables], [v.value for v in opt.variables]
        for g in grads:
            values, opt_values = step(opt_values, jax.tree_util.tree_leaves(g), values)
        for v, value in zip(variables + list(opt.variables), values + opt_values):
            v.assign(value)
    else:
        for g in grads:
            opt.apply_gradients(zip(jax.tree_util.tree_leaves(g), variables))
    return treedef.unflatten([np.asarray(v.value) for v in variables])


def assert_trees_close(actual, expected, rtol=1e-5, atol=1e-6):
    for (path, a), e in zip(jax.tree_util.tree_flatten_with_path(actual)[0],
                            jax.tree_util.tree_leaves(expected)):
        np.testing.assert_allclose(np.asarray(a), e, rtol=rtol, atol=atol,
                                   err_msg=jax.tree_util.keystr(path))


CASES = [
    ("SGD", {}),
    ("SGD", {"learning_rate": 0.05, "momentum": 0.9}),
    ("SGD", {"learning_rate": 0.05, "momentum": 0.9, "nesterov": True}),
    ("Adam", {"learning_rate": 0.1}),
    ("Adam", {"learning_rate": 0.1, "amsgrad": True}),
    ("AdamW", {"learning_rate": 0.1}),
    ("AdamW", {"learning_rate": 0.1, "weight_decay": 0.1, "exclude": ["bias"]}),
    ("RMSprop", {"learning_rate": 0.01}),
    ("RMSprop", {"learning_rate": 0.01, "momentum": 0.5, "centered": True}),
    ("Adagrad", {"learning_rate": 0.1}),
    ("Adagrad", {"learning_rate": 0.1, "initial_accumulator_value": 1.0, "epsilon": 1e-3}),
    ("Adamax", {"learning_rate": 0.1}),
    ("Nadam", {"learning_rate": 0.1}),
    ("Nadam", {"learning_rate": 0.1, "gradient_accumulation_steps": 2}),
    ("Adadelta", {"learning_rate": 1.0}),
    ("Adafactor", {"learning_rate": 0.1}),
    ("Adafactor", {"learning_rate": 0.01, "clip_threshold": 0.5, "beta_2_decay": -0.5}),
    ("Ftrl", {"learning_rate": 0.1}),
    ("Ftrl", {"learning_rate": 0.1, "l1_regularization_strength": 0.01,
              "l2_regularization_strength": 0.02, "l2_shrinkage_regularization_strength": 0.01,
              "beta": 0.1, "learning_rate_power": -0.3}),
    ("Lion", {"learning_rate": 0.01}),
    ("Lamb", {"learning_rate": 0.1}),
    ("Muon", {"learning_rate": 0.05}),
    ("Muon", {"learning_rate": 0.05, "nesterov": False, "exclude_embeddings": False,
              "rms_rate": None, "adam_lr_ratio": 0.5, "weight_decay": 0.1}),
    ("Muon", {"learning_rate": 0.05, "exclude_layers": ["dense"]}),
    ("ScheduleFreeAdamW", {"learning_rate": 0.1}),
    ("ScheduleFreeAdamW", {"learning_rate": 0.1, "warmup_steps": 5, "weight_decay": 0.01}),
]
COMMON = [
    {"clipnorm": 1.0},
    {"clipvalue": 0.5},
    {"global_clipnorm": 2.0},
    {"weight_decay": 0.05},
    {"weight_decay": 0.05, "exclude": ["kernel", "emb"]},
    {"use_ema": True},
    {"use_ema": True, "ema_momentum": 0.9, "ema_overwrite_frequency": 3},
    {"loss_scale_factor": 4.0},
    {"gradient_accumulation_steps": 3},
    {"gradient_accumulation_steps": 2, "use_ema": True, "ema_overwrite_frequency": 2,
     "clipnorm": 1.0, "weight_decay": 0.01},
    {"learning_rate": Sched("ExponentialDecay", initial_learning_rate=0.1, decay_steps=5,
                            decay_rate=0.5)},
]
for _name in ("SGD", "Adam", "RMSprop", "Adagrad"):
    for _kw in COMMON:
        CASES.append((_name, {"learning_rate": 0.05, **_kw}))


def _case_id(case):
    name, kwargs = case
    return name + "-" + "-".join(f"{k}={getattr(v, 'name', v)}" for k, v in kwargs.items())


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_matches_keras(keras, data, case):
    name, kwargs = case
    params, grads = data
    expected = run_keras(keras, build(keras, name, kwargs), params, grads)
    opt = build(kopt, name, kwargs)
    actual, state = run_kerax(opt, params, grads)
    assert_trees_close(actual, expected)
    if kwargs.get("use_ema") and not kwargs.get("ema_overwrite_frequency"):
        # Keras' finalize_variable_values: the weights become their moving averages.
        keras_opt = build(keras, name, kwargs)
        flat = jax.tree_util.tree_leaves(params)
        variables = [keras.Variable(np.asarray(v)) for v in flat]
        for g in grads:
            keras_opt.apply_gradients(zip(jax.tree_util.tree_leaves(g), variables))
        keras_opt.finalize_variable_values(variables)
        averaged = opt.finalize_variable_values(actual, state)
        assert_trees_close(averaged, jax.tree_util.tree_unflatten(
            jax.tree_util.tree_structure(params), [np.asarray(v.value) for v in variables]))


@pytest.mark.parametrize("name,kwargs", [
    ("Adam", {"gradient_accumulation_steps": 2, "use_ema": True, "ema_overwrite_frequency": 2,
              "clipnorm": 1.0, "weight_decay": 0.01}),
])
def test_jit_matches_eager(data, name, kwargs):
    params, grads = data
    eager, _ = run_kerax(build(kopt, name, kwargs), params, grads[:6])
    jitted, _ = run_kerax(build(kopt, name, kwargs), params, grads[:6], jit=True)
    assert_trees_close(jitted, eager)


def test_loss_scale_optimizer_matches_keras(keras, data):
    params, grads = data
    grads = list(grads)
    for i in (3, 4, 9):  # non-finite steps are skipped and halve the scale
        grads[i] = jax.tree_util.tree_map(lambda g: g * np.inf, grads[i])

    def make(module):
        module = getattr(module, "optimizers", module)
        return module.LossScaleOptimizer(module.Adam(learning_rate=0.1), initial_scale=8.0,
                                         dynamic_growth_steps=4)

    keras_opt = make(keras)
    expected = run_keras(keras, keras_opt, params, grads)
    opt = make(kopt)
    actual, state = run_kerax(opt, params, grads)
    assert_trees_close(actual, expected)
    assert float(state["dynamic_scale"]) == float(keras_opt.dynamic_scale.value)
    opt.state = state
    assert opt.iterations == int(keras_opt.iterations.value) == STEPS - 3
    assert float(opt.scale_loss(1.0)) == float(keras_opt.scale_loss(1.0))
    opt.learning_rate = 0.5
    assert float(opt.learning_rate) == 0.5 and opt.inner_optimizer.state is None


def test_loss_scale_optimizer_rejects_base_arguments():
    with pytest.raises(ValueError, match="does not support `clipnorm`"):
        kopt.LossScaleOptimizer(kopt.SGD(), clipnorm=1.0)
    with pytest.raises(ValueError, match="no longer supports `dynamic=False`"):
        kopt.LossScaleOptimizer(kopt.SGD(), dynamic=False)


def test_multi_optimizer_matches_keras(keras, data):
    params, grads = data

    def make(module):
        module = getattr(module, "optimizers", module)
        mapping = module.OptimizerMap(module.Adam(learning_rate=0.1),
                                      {"dense/.*": module.SGD(0.05, momentum=0.9)})
        return module.MultiOptimizer(mapping, loss_scale_factor=2.0)

    expected = run_keras(keras, make(keras), params, grads)
    opt = make(kopt)
    actual, state = run_kerax(opt, params, grads)
    assert_trees_close(actual, expected)
    restored = kopt.deserialize(kopt.serialize(opt))
    assert [type(o).__name__ for o in restored.optimizers] == ["SGD", "Adam"]
    opt.state = state
    assert opt.iterations == STEPS
    with pytest.raises(AttributeError, match="cannot be accessed on a MultiOptimizer"):
        opt.learning_rate


def test_keras_names_missing_from_kerax(keras):
    """Every public name of `keras.optimizers` exists in kerax, except `legacy`.

    `keras.optimizers.legacy` only raises ImportError in Keras 3 (Keras 2 optimizers).
    """
    public = {n for n in dir(keras.optimizers) if not n.startswith("_")}
    assert public - set(dir(kopt)) == {"legacy"}


def test_learning_rate_get_set(data):
    params, grads = data
    opt = kopt.SGD(learning_rate=0.5)
    assert float(opt.learning_rate) == 0.5
    opt.build(params)
    opt.learning_rate = 0.25
    assert float(opt.learning_rate) == 0.25
    new, opt.state = opt.apply(grads[0], opt.state, params)
    np.testing.assert_allclose(new["dense"]["bias"],
                               params["dense"]["bias"] - 0.25 * grads[0]["dense"]["bias"],
                               rtol=1e-6)
    assert opt.iterations == 1
    assert opt.get_config()["learning_rate"] == 0.25


def test_learning_rate_schedule_not_settable(data):
    params, grads = data
    opt = kopt.Adam(learning_rate=kopt.schedules.ExponentialDecay(0.1, 1, 0.5))
    opt.build(params)
    _, opt.state = opt.apply(grads[0], opt.state, params)
    assert float(opt.learning_rate) == pytest.approx(0.05)
    with pytest.raises(TypeError, match="learning rate is not settable"):
        opt.learning_rate = 0.1


def test_iterations_with_gradient_accumulation(data):
    params, grads = data
    opt = kopt.SGD(gradient_accumulation_steps=2)
    opt.build(params)
    for g in grads[:5]:
        _, opt.state = opt.apply(g, opt.state, params)
    assert opt.iterations == 2


@pytest.mark.parametrize("name,cls", sorted(kopt.ALIASES.items()))
def test_get_by_name(name, cls):
    assert type(kopt.get(name)) is cls


def test_get_unknown_identifier():
    with pytest.raises(errors.UnknownIdentifierError, match="Did you mean: 'adam'"):
        kopt.get("adamm")


def test_get_optax_transformation():
    import optax

    opt = kopt.get(optax.inject_hyperparams(optax.adam)(learning_rate=0.1))
    opt.build({"w": jnp.ones(2)})
    opt.learning_rate = 0.01
    assert float(opt.learning_rate) == pytest.approx(0.01)


def test_optax_without_hyperparams_rejects_setting_lr():
    import optax

    opt = kopt.get(optax.sgd(0.1))
    opt.build({"w": jnp.ones(2)})
    with pytest.raises(TypeError, match="no injectable `learning_rate`"):
        opt.learning_rate = 0.1


_CONFIG_CASES = [c for c in CASES if not c[1].get("exclude") and c[1].get("weight_decay") != 0.05]


@pytest.mark.parametrize("case", _CONFIG_CASES, ids=[_case_id(c) for c in _CONFIG_CASES])
def test_config_round_trip(keras, case):
    name, kwargs = case
    opt = build(kopt, name, kwargs)
    config = kopt.serialize(opt)
    restored = kopt.deserialize(config)
    assert type(restored) is type(opt)
    assert kopt.serialize(restored) == config
    ours = dict(config["config"])
    theirs = dict(keras.optimizers.serialize(build(keras, name, kwargs))["config"])
    for key in ("name", "learning_rate"):  # auto names differ; Keras stores float32 rates
        a, b = ours.pop(key), theirs.pop(key)
        if isinstance(a, float):
            assert a == pytest.approx(b, rel=1e-6)
    assert ours == theirs


def test_keras_config_loads(keras):
    config = keras.optimizers.serialize(keras.optimizers.Adam(
        learning_rate=keras.optimizers.schedules.CosineDecay(0.1, 100), amsgrad=True))
    opt = kopt.deserialize(config)
    assert opt.amsgrad and opt.get_config()["learning_rate"]["config"]["decay_steps"] == 100


@pytest.mark.parametrize("kwargs,match", [
    ({"clipnorm": 1.0, "clipvalue": 1.0}, "Only one of `clipnorm`"),
    ({"gradient_accumulation_steps": 1}, "must be an integer >= 2"),
    ({"use_ema": True, "ema_momentum": 2.0}, "must be in the range"),
    ({"foo": 1}, "not recognized"),
])
def test_argument_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        kopt.Adam(**kwargs)


def test_specific_argument_errors():
    with pytest.raises(ValueError, match="`momentum` must be a float"):
        kopt.SGD(momentum=2)
    with pytest.raises(ValueError, match="`weight_decay` must be a float"):
        kopt.AdamW(weight_decay=None)


def test_exclude_after_build_raises(data):
    opt = kopt.AdamW()
    opt.build(data[0])
    with pytest.raises(ValueError, match="before the optimizer is built"):
        opt.exclude_from_weight_decay(var_names=["bias"])


def test_exclude_by_leaf_identity(data):
    params, grads = data
    opt = kopt.AdamW(learning_rate=0.1, weight_decay=0.5)
    opt.exclude_from_weight_decay(var_list=[params["dense"]["bias"]])
    ref = kopt.AdamW(learning_rate=0.1, weight_decay=0.5)
    ref.exclude_from_weight_decay(var_names=["dense/bias"])
    a, _ = run_kerax(opt, params, grads[:2])
    b, _ = run_kerax(ref, params, grads[:2])
    assert_trees_close(a, b, rtol=0, atol=0)


def test_hyper_state_found_inside_multisteps(data):
    import optax

    params, grads = data
    inner = optax.inject_hyperparams(optax.sgd)(learning_rate=0.1)
    opt = kopt.get(optax.MultiSteps(inner, every_k_schedule=2).gradient_transformation())
    opt.build(params)
    opt.learning_rate = 0.2
    for g in grads[:4]:
        _, opt.state = opt.apply(g, opt.state, params)
    assert float(opt.learning_rate) == pytest.approx(0.2) and opt.iterations == 2


@pytest.mark.parametrize("fn,exc,match", [
    (lambda: kopt.OptimizerMap("adam"), TypeError, "default_optimizer must be"),
    (lambda: kopt.OptimizerMap(kopt.SGD(), [1]), TypeError, "optimizer_map must be a dict"),
    (lambda: kopt.OptimizerMap(kopt.SGD(), {"a.*": kopt.SGD(), ".*b": kopt.SGD()})("ab"),
     ValueError, "Multiple optimizers assigned"),
    (lambda: kopt.OptimizerMap(kopt.SGD(), {"a": kopt.SGD()}).__setitem__("a", kopt.SGD()),
     ValueError, "already exists"),
    (lambda: kopt.OptimizerMap(kopt.SGD()).__setitem__("a", "sgd"), ValueError,
     "must be a kerax Optimizer"),
    (lambda: kopt.MultiOptimizer(kopt.OptimizerMap(kopt.LossScaleOptimizer(kopt.SGD()))),
     ValueError, "other than LossScaleOptimizer"),
    (lambda: kopt.Ftrl(learning_rate_power=0.5), ValueError, "negative or zero"),
    (lambda: kopt.Ftrl(l1_regularization_strength=-1.0), ValueError, "positive or zero"),
    (lambda: kopt.Lion(beta_1=0.0), ValueError, "degenerates to SignSGD"),
    (lambda: kopt.Muon().zeropower_via_newtonschulz5(jnp.ones(3), 1), ValueError,
     "at least 2 dimensions"),
    (lambda: kopt.LossScaleOptimizer(kopt.SGD(), foo=1), ValueError, "does not support arg"),
    (lambda: kopt.Optimizer(0.1).init({"w": jnp.ones(1)}), NotImplementedError,
     "must implement `update_transform"),
    (lambda: kopt.get(3), ValueError, "Could not interpret optimizer identifier: 3"),  # as Keras
])
def test_error_messages(fn, exc, match):
    with pytest.raises(exc, match=match):
        fn()


@pytest.mark.parametrize("name", ["Adam", "AdamW", "Nadam", "Adamax", "Lion", "Adagrad", "Ftrl",
                                  "Adafactor", "Lamb"])
def test_pure_state_can_be_donated(data, name):
    """`init` gives every slot its own buffer: a jitted step may donate the whole state
    (a shared zeros buffer made XLA refuse: "donate the same buffer twice")."""
    params, grads = data
    params = jax.tree_util.tree_map(jnp.asarray, params)
    opt = getattr(kopt, name)(learning_rate=0.01)
    state = opt.init(params)
    step = jax.jit(lambda g, s, p: opt.apply(g, s, p), donate_argnums=(1, 2))
    p2, _ = step(grads[0], state, jax.tree_util.tree_map(jnp.copy, params))
    want, _ = opt.apply(grads[0], opt.init(params), params)
    jax.tree_util.tree_map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-6), p2, want)
