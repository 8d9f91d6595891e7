"""Generic checks over every registered layer case (see conformance.py)."""

import importlib
import pkgutil

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

import kerax
import kerax.layers
from kerax.errors import LayerShapeError
from tests.layers import conformance


def _all_cases():
    cases = []
    import tests.layers as pkg

    for mod in pkgutil.iter_modules(pkg.__path__):
        if mod.name.startswith("registry_"):
            cases += importlib.import_module(f"tests.layers.{mod.name}").CASES
    return cases


CASES = _all_cases()
IDS = [c.test_id for c in CASES]


def _make(case):
    return getattr(kerax.layers, case.layer)(**case.kwargs)


def _setup(case):
    rng = np.random.default_rng(0)
    layer = _make(case)
    inputs = case.inputs(rng)
    variables = layer.init(jax.random.PRNGKey(0), *inputs)
    return layer, inputs, variables


def _close(a, b, case):
    for x, y in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)):
        np.testing.assert_allclose(np.asarray(x, np.float64), np.asarray(y, np.float64),
                                   rtol=case.rtol, atol=case.atol)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_keras_parity(case, keras):
    if "keras_parity" in case.skip:
        pytest.skip("no Keras parity for this case")
    layer, inputs, variables = _setup(case)
    layer.variables = variables
    klayer = getattr(keras.layers, case.layer)(**(case.keras_kwargs or case.kwargs))
    kin = inputs[0] if len(inputs) == 1 else inputs
    klayer(kin, **case.call_kwargs)
    klayer.set_weights(layer.get_weights())
    modes = [False] + ([True] if case.training_parity else [])
    for training in modes:
        expected = klayer(kin, training=training, **case.call_kwargs)
        got, _ = layer.apply(variables, *inputs, training=training,
                             rng=jax.random.PRNGKey(1), **case.call_kwargs)
        _close(got, expected, case)
    assert [w.shape for w in layer.get_weights()] == [tuple(w.shape) for w in klayer.get_weights()]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_config_round_trip(case, keras):
    layer = _make(case)
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    if "keras_config" in case.skip:
        return
    kconfig = getattr(keras.layers, case.layer)(**(case.keras_kwargs or case.kwargs)).get_config()
    missing = set(kconfig) - set(config) - {"quantization_config"}
    assert not missing, f"config lacks Keras keys {missing}"


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_jit_vmap_grad(case):
    layer, inputs, variables = _setup(case)
    fn = lambda v, *xs: layer.apply(v, *xs, training=False, **case.call_kwargs)[0]  # noqa: E731
    eager = fn(variables, *inputs)
    if "jit" in case.skip:
        return
    _close(jax.jit(fn)(variables, *inputs), eager, case)
    if case.vmap and "vmap" not in case.skip:
        stacked = [jnp.stack([x, x]) for x in inputs]
        batched = jax.vmap(fn, in_axes=(None,) + (0,) * len(inputs))(variables, *stacked)
        _close(jax.tree_util.tree_map(lambda b: b[1], batched), eager, case)
    if case.grad and jax.tree_util.tree_leaves(variables["params"]):
        def loss(params):
            out = fn({"params": params, "state": variables["state"]}, *inputs)
            return sum(jnp.sum(jnp.sin(o)) for o in jax.tree_util.tree_leaves(out))

        check_grads(loss, (variables["params"],), order=1, modes=["rev"], atol=5e-2, rtol=5e-2)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_abstract_init_and_dtype(case):
    if "abstract_init" in case.skip:
        pytest.skip("host layer: no abstract init")
    layer, inputs, variables = _setup(case)
    specs = [jax.ShapeDtypeStruct(x.shape, x.dtype) for x in inputs]
    abstract = jax.eval_shape(layer.init, jax.random.PRNGKey(0), *specs)
    assert jax.tree_util.tree_map(lambda a: (a.shape, a.dtype), abstract) == \
        jax.tree_util.tree_map(lambda a: (a.shape, a.dtype), variables)
    out, _ = layer.apply(variables, *inputs, **case.call_kwargs)
    for o in jax.tree_util.tree_leaves(out):
        if case.input_dtype == "float32":
            assert o.dtype == jnp.float32


@pytest.mark.parametrize("case", [c for c in CASES if c.bad_input_shape is not None],
                         ids=[c.test_id for c in CASES if c.bad_input_shape is not None])
def test_wrong_input_shape_error(case):
    layer, inputs, variables = _setup(case)
    bad = np.zeros(case.bad_input_shape, case.input_dtype)
    with pytest.raises(LayerShapeError, match=f"{case.layer} '{layer.name}'.*received input of shape"):
        layer.apply(variables, bad, **case.call_kwargs)


def test_every_public_layer_has_a_case():
    covered = {c.layer for c in CASES}
    public = {n for n in dir(kerax.layers)
              if isinstance(getattr(kerax.layers, n), type)
              and issubclass(getattr(kerax.layers, n), kerax.layers.Layer)}
    missing = sorted(public - covered - conformance.EXEMPT - _containers())
    assert not missing, f"public layers without a conformance case: {missing}"


def _containers():
    return {"Sequential", "Model", "Functional"}


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_apply_on_a_fresh_copy(case):
    """`apply` needs only the config and the variables: a copy rebuilt from the config,
    never `init`-ed, gives the same output with another instance's variables."""
    layer = _make(case)
    fresh = type(layer).from_config(layer.get_config())  # before `init` touches `layer`
    inputs = case.inputs(np.random.default_rng(0))
    variables = layer.init(jax.random.PRNGKey(0), *inputs)
    kwargs = dict(training=False, rng=jax.random.PRNGKey(1), **case.call_kwargs)
    expected, _ = layer.apply(variables, *inputs, **kwargs)
    got, _ = fresh.apply(variables, *inputs, **kwargs)
    _close(got, expected, case)


def _state_of(obj, seen=None):
    """What `vars(layer)` holds, deeply: sub-layers by their own state, containers by
    their contents, anything else by identity."""
    seen = set() if seen is None else seen
    if isinstance(obj, kerax.layers.Layer):
        if id(obj) in seen:
            return ("layer", id(obj))
        seen.add(id(obj))
        return ("layer", id(obj), {k: _state_of(v, seen) for k, v in vars(obj).items()})
    if type(obj) in (dict, list, tuple):
        items = obj.items() if isinstance(obj, dict) else enumerate(obj)
        return (type(obj).__name__, tuple((k, _state_of(v, seen)) for k, v in items))
    return ("object", id(obj))


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_init_leaves_the_layer_unchanged(case):
    """`init` is a pure function: Keras' build record (`built`, weight order, build
    shapes, input spec narrowed to the built shape, sub-layers made in `build`) is written
    by the shell that builds the layer, not by `init` (`test_eager_build_writes_the_record`)."""
    layer = _make(case)
    before = _state_of(layer)
    layer.init(jax.random.PRNGKey(0), *case.inputs(np.random.default_rng(0)))
    assert _state_of(layer) == before


@pytest.mark.parametrize("case", CASES[::9], ids=IDS[::9])
def test_eager_build_writes_the_record(case):
    layer = _make(case)
    variables = layer.build_eagerly(*case.inputs(np.random.default_rng(0)))
    assert layer.built
    # Every leaf is a Keras variable; SeedGenerator states are variables, not weights.
    assert len(layer.variables) == len(jax.tree_util.tree_leaves(variables))
    seeds = [v for v in layer.variables if v.path.endswith("/seed_generator_state")]
    assert len(layer.weights) == len(layer.variables) - len(seeds)
