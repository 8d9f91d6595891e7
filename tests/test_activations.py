"""kerax.activations against keras.activations: names, values, gradients, (de)serialization."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from kerax import activations, errors

# (name, kwargs): default arguments first, then each non-default argument Keras offers.
CASES = [
    ("linear", {}),
    ("relu", {}),
    ("relu", {"negative_slope": 0.3}),
    ("relu", {"max_value": 0.8}),
    ("relu", {"max_value": 6.0}),
    ("relu", {"threshold": 0.4}),
    ("relu", {"negative_slope": 0.2, "max_value": 1.0, "threshold": -0.3}),
    ("leaky_relu", {}),
    ("leaky_relu", {"negative_slope": 0.05}),
    ("relu6", {}),
    ("elu", {}),
    ("elu", {"alpha": 0.5}),
    ("selu", {}),
    ("celu", {}),
    ("celu", {"alpha": 2.0}),
    ("softplus", {}),
    ("softsign", {}),
    ("squareplus", {}),
    ("squareplus", {"b": 1.5}),
    ("soft_shrink", {}),
    ("soft_shrink", {"threshold": 0.2}),
    ("hard_shrink", {}),
    ("hard_shrink", {"threshold": 0.2}),
    ("sparse_plus", {}),
    ("silu", {}),
    ("swish", {}),
    ("gelu", {}),
    ("gelu", {"approximate": True}),
    ("glu", {}),
    ("glu", {"axis": 1}),
    ("tanh", {}),
    ("tanh_shrink", {}),
    ("hard_tanh", {}),
    ("threshold", {"threshold": 0.1, "default_value": -2.0}),
    ("sigmoid", {}),
    ("sparse_sigmoid", {}),
    ("log_sigmoid", {}),
    ("exponential", {}),
    ("hard_sigmoid", {}),
    ("hard_silu", {}),
    ("hard_swish", {}),
    ("mish", {}),
    ("softmax", {}),
    ("softmax", {"axis": 1}),
    ("softmax", {"axis": (1, 2)}),
    ("log_softmax", {}),
    ("log_softmax", {"axis": 0}),
    ("sparsemax", {}),
    ("sparsemax", {"axis": 1}),
]
IDS = [f"{n}-{'-'.join(f'{k}={v}' for k, v in kw.items()) or 'default'}" for n, kw in CASES]


@pytest.fixture(scope="module")
def x():
    # 3-D, values spread over [-4, 4] so every piece of each piecewise function is hit.
    return jnp.asarray(np.random.default_rng(0).uniform(-4, 4, (2, 4, 6)), jnp.float32)


def test_every_keras_activation_exists(keras):
    public = {n for n in dir(keras.activations) if not n.startswith("_")}
    missing = sorted(n for n in public if not hasattr(activations, n))
    assert missing == []


def test_name_table_matches_keras(keras):
    from keras.src.activations import ALL_OBJECTS_DICT

    assert set(activations.ALL) == set(ALL_OBJECTS_DICT)


@pytest.mark.parametrize("name,kwargs", CASES, ids=IDS)
def test_values_match_keras(keras, x, name, kwargs):
    expected = getattr(keras.activations, name)(x, **kwargs)
    got = getattr(activations, name)(x, **kwargs)
    assert got.shape == expected.shape and got.dtype == expected.dtype
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name,kwargs", CASES, ids=IDS)
def test_gradients_match_keras(keras, x, name, kwargs):
    def total(fn):
        return jax.grad(lambda v: jnp.sum(jnp.sin(fn(v, **kwargs))))(x)

    expected = total(getattr(keras.activations, name))
    got = total(getattr(activations, name))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name,kwargs", [c for c in CASES if c[1] and "axis" not in c[1]])
def test_half_precision_keeps_dtype_like_keras(keras, x, name, kwargs):
    x16 = x.astype(jnp.float16)
    expected = getattr(keras.activations, name)(x16, **kwargs)
    got = getattr(activations, name)(x16, **kwargs)
    assert got.dtype == expected.dtype == jnp.float16
    np.testing.assert_allclose(got.astype(jnp.float32), expected.astype(jnp.float32), rtol=1e-3)


def test_python_list_input(keras):
    values = [-10.0, -5.0, 0.0, 5.0, 10.0]
    for name in ("relu", "sigmoid", "hard_silu", "mish"):
        np.testing.assert_allclose(
            getattr(activations, name)(values), getattr(keras.activations, name)(values), rtol=1e-6
        )


def test_softmax_warns_on_axis_of_size_one():
    with pytest.warns(UserWarning, match="axis has size 1"):
        activations.softmax(jnp.ones((3, 1)))


@pytest.mark.parametrize("name", sorted(activations.ALL))
def test_serialize_round_trip(keras, name):
    fn = activations.get(name)
    assert activations.serialize(fn) == keras.activations.serialize(getattr(keras.activations, name))
    assert activations.get(activations.serialize(fn)) is fn
    assert activations.deserialize(activations.serialize(fn)) is fn


def test_get_accepts_none_callable_and_config():
    assert activations.get(None) is activations.linear
    custom = lambda v: v * 2  # noqa: E731
    assert activations.get(custom) is custom
    config = {"module": "keras.activations", "class_name": "function", "config": "elu",
              "registered_name": "elu"}
    assert activations.get(config) is activations.elu


def test_serialize_none_is_linear():
    assert activations.serialize(None) == "linear"


def test_get_unknown_name_lists_close_matches():
    with pytest.raises(errors.UnknownIdentifierError, match="Unknown activation identifier: 'rellu'.*Did you mean: 'relu'"):
        activations.get("rellu")
    with pytest.raises(ValueError, match="Unknown activation identifier: 'nope'"):
        activations.deserialize("nope")


def test_get_rejects_non_callable():
    with pytest.raises(ValueError, match="Could not interpret activation identifier: 3"):
        activations.get(3)


def test_deserialize_uses_custom_objects():
    def my_act(v):
        return v

    assert activations.deserialize("my_act", custom_objects={"my_act": my_act}) is my_act
