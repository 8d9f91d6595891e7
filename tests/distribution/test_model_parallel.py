"""ModelParallel: layouts from a LayoutMap, checked plans, sharded init, parity."""

import jax
import numpy as np
import pytest
from jax.sharding import PartitionSpec as P

import kerax
from kerax import distribution as kd
from kerax.distribution import placement
from tests.distribution.conftest import make_model


def _model_parallel(rules, shape=(2, 4)):
    mesh = kd.DeviceMesh(shape, ("batch", "model"))
    layout_map = kd.LayoutMap(mesh)
    for key, axes in rules.items():
        layout_map[key] = axes
    return kd.ModelParallel(layout_map=layout_map, batch_dim_name="batch")


MEGATRON = {".*dense.*kernel": (None, "model"), ".*dense.*bias": ("model",)}
FSDP = {".*dense.*kernel": ("batch", "model")}  # kernels sharded over all 8 devices


@pytest.mark.parametrize("rules", [MEGATRON, FSDP], ids=["model", "fsdp"])
def test_fit_evaluate_predict_match_single_device(rules, data, reference):
    x, y = data
    with _model_parallel(rules).scope():
        model = make_model()
        model.set_weights(reference["w0"])
        history = model.fit(x, y, batch_size=16, epochs=3, verbose=0, shuffle=False)
        logs = model.evaluate(x, y, verbose=0, return_dict=True)
        predicted = model.predict(x, verbose=0, batch_size=16)
    for got, want in zip(model.get_weights(), reference["weights"]):
        np.testing.assert_allclose(got, want, atol=1e-5, rtol=1e-5)
    np.testing.assert_allclose(history.history["loss"], reference["loss"], rtol=1e-5)
    for name, value in reference["eval"].items():
        np.testing.assert_allclose(logs[name], value, rtol=1e-5)
    np.testing.assert_allclose(predicted, reference["predict"], atol=1e-5)
    # Parameters and their optimizer slots carry the layout's sharding after training.
    name = model.name
    params = placement.parameter_paths(model, model.variables["params"])
    slots = model.optimizer.state.inner_state["inner"]["slots"]
    for path, leaf in params.items():
        layer, weight = path.split("/")[1:]
        expected = kd.TensorLayout(rules.get(f".*dense.*{weight}", (None,) * leaf.ndim)).axes
        assert path.startswith(name + "/")
        assert leaf.sharding.spec == P(*expected), path
        for slot in slots[layer][weight]:
            assert slot.sharding.spec == P(*expected), path


def test_sharded_init_never_builds_a_full_copy(data):
    x, y = data
    with _model_parallel(FSDP).scope():
        model = make_model(built=False)
        model.fit(x[:16], y[:16], batch_size=16, epochs=1, verbose=0)
    kernel = model.layers[0].variables["params"]["kernel"]
    assert kernel.sharding.spec == P("batch", "model")
    assert kernel.addressable_shards[0].data.shape == (8, 8)


def test_init_variables_lays_out_each_parameter():
    model = make_model(built=False)
    with _model_parallel(MEGATRON).scope():
        variables = placement.init_variables(
            model, jax.ShapeDtypeStruct((1, 16), np.float32), jax.random.PRNGKey(0))
    specs = {p: a.sharding.spec for p, a in
             placement.parameter_paths(model, variables["params"]).items()}
    assert set(specs.values()) == {P(None, "model"), P("model")}


def test_memory_report_params_are_smaller_when_sharded(data):
    x, y = data
    with kd.DataParallel().scope():
        replicated = kd.memory_report(make_model(), x, y, batch_size=16)
    with _model_parallel(FSDP).scope():
        sharded = kd.memory_report(make_model(), x, y, batch_size=16)
    assert sharded["params"] < replicated["params"] / 2
    assert sharded["optimizer_state"] < replicated["optimizer_state"] / 2


def test_rule_matching_nothing_warns_with_its_name(data):
    x, y = data
    with _model_parallel({**MEGATRON, "conv2d/kernel": (None, None, None, "model")}).scope():
        with pytest.warns(UserWarning, match=r"LayoutMap key 'conv2d/kernel' matches no "
                                             r"parameter of model 'sequential"):
            make_model().fit(x[:16], y[:16], batch_size=16, verbose=0)


def test_large_replicated_parameter_warns_with_its_name(data, monkeypatch):
    x, y = data
    monkeypatch.setattr(placement, "LARGE_PARAMETER_BYTES", 1024)
    with _model_parallel({".*bias": ("model",)}).scope():
        model = make_model()
        with pytest.warns(UserWarning, match=r"Parameter 'sequential_\d+/dense_\d+/kernel' "
                                             r"\(0\.0 MiB, shape \(16, 32\)\) is replicated"):
            model.fit(x[:16], y[:16], batch_size=16, verbose=0)


@pytest.mark.parametrize("rules, shape, message", [
    ({".*kernel": ("model",)}, (2, 4),
     r"The layout \('model',\) for parameter 'sequential_\d+/dense_\d+/kernel' has 1 axes, "
     r"but the parameter has shape \(16, 12\) \(2 axes\)"),
    ({".*kernel": (None, "model")}, (1, 8),
     r"Parameter 'sequential_\d+/dense_\d+/kernel' of shape \(16, 12\) cannot be sharded by "
     r"\(None, 'model'\): axis of size 12 is not divisible by the 8 devices of mesh axis "
     r"'model'"),
], ids=["rank", "divisibility"])
def test_layout_that_does_not_fit_raises(rules, shape, message, data):
    x, y = data
    with _model_parallel(rules, shape).scope():
        with pytest.raises(ValueError, match=message):
            make_model(hidden=12).fit(x[:16], y[:16], batch_size=16, verbose=0)


def test_evaluate_lays_out_the_variables_as_keras_keeps_them(keras, data):
    """Keras' variables always carry the distribution's layout; kerax's take it on their
    first fit / evaluate / predict. After `set_weights` (host arrays), `evaluate` alone
    must leave them laid out, as Keras' are (it used to evaluate on a laid-out copy)."""
    x, y = data
    rules = {".*dense.*kernel": (None, "model")}
    dist = _model_parallel(rules)
    kmesh = keras.distribution.DeviceMesh((2, 4), ["batch", "model"],
                                          keras.distribution.list_devices())
    kmap = keras.distribution.LayoutMap(kmesh)
    kmap[".*dense.*kernel"] = (None, "model")
    keras.distribution.set_distribution(
        keras.distribution.ModelParallel(layout_map=kmap, batch_dim_name="batch"))
    try:
        kmodel = keras.Sequential([keras.Input((x.shape[1],)), keras.layers.Dense(8)])
        kmodel.compile(loss="mse")
        want = kmodel.evaluate(x, y, verbose=0)
        kspecs = [tuple(w.value.sharding.spec) for w in kmodel.weights]
    finally:
        keras.distribution.set_distribution(None)
    with dist.scope():
        model = kerax.Sequential([kerax.Input((x.shape[1],)), kerax.layers.Dense(8)])
        model.compile(loss="mse")
        model.set_weights(kmodel.get_weights())
        got = model.evaluate(x, y, verbose=0)
    np.testing.assert_allclose(got, want, rtol=1e-5)
    specs = [tuple(w.value.sharding.spec) for w in model.weights]
    assert specs == kspecs == [(None, "model"), (None,)]
