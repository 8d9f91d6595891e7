"""kerax.regularizers against keras.regularizers: names, values, configs, errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from kerax import errors
from kerax import regularizers as R

CASES = [
    ("L1", {}),
    ("L1", {"l1": 0.3}),
    ("L2", {}),
    ("L2", {"l2": 0.7}),
    ("L1L2", {}),
    ("L1L2", {"l1": 0.1}),
    ("L1L2", {"l2": 0.2}),
    ("L1L2", {"l1": 0.1, "l2": 0.2}),
    ("OrthogonalRegularizer", {}),
    ("OrthogonalRegularizer", {"factor": 0.5, "mode": "columns"}),
]
IDS = [f"{n}-{kw}" for n, kw in CASES]


@pytest.fixture(scope="module")
def w():
    return jnp.asarray(np.random.default_rng(0).normal(size=(4, 6)), jnp.float32)


def test_every_keras_regularizer_exists(keras):
    public = {n for n in dir(keras.regularizers) if not n.startswith("_")}
    assert sorted(n for n in public if not hasattr(R, n)) == []


def test_name_table_covers_keras(keras):
    from keras.src.regularizers import ALL_OBJECTS_DICT

    names = {**R.ALL, **R.ALIASES}
    assert set(ALL_OBJECTS_DICT) <= set(names)
    for name, cls in ALL_OBJECTS_DICT.items():
        assert names[name].__name__ == cls.__name__


@pytest.mark.parametrize("name,kwargs", CASES, ids=IDS)
def test_values_and_gradients_match_keras(keras, w, name, kwargs):
    ref, got = getattr(keras.regularizers, name)(**kwargs), getattr(R, name)(**kwargs)
    np.testing.assert_allclose(got(w), ref(w), rtol=1e-6)
    assert jnp.asarray(got(w)).dtype == jnp.asarray(ref(w)).dtype
    np.testing.assert_allclose(jax.grad(got)(w), jax.grad(ref)(w), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("name,kwargs", CASES, ids=IDS)
def test_config_matches_keras_and_round_trips(keras, name, kwargs):
    expected = getattr(keras.regularizers, name)(**kwargs).get_config()
    reg = getattr(R, name)(**kwargs)
    assert reg.get_config() == expected
    clone = R.deserialize(R.serialize(reg))
    assert type(clone) is type(reg) and clone.get_config() == expected


def test_jit_and_3d_weights(keras):
    w3 = jnp.asarray(np.random.default_rng(1).normal(size=(2, 3, 4)), jnp.float32)
    reg = R.L1L2(l1=0.1, l2=0.2)
    np.testing.assert_allclose(jax.jit(reg)(w3), keras.regularizers.L1L2(0.1, 0.2)(w3), rtol=1e-6)


def test_none_arguments_mean_defaults():
    assert R.L1(None).get_config() == R.L1().get_config()
    assert R.L1L2(None, None).get_config() == {"l1": 0.0, "l2": 0.0}
    assert float(R.L1L2()(jnp.ones(3))) == 0.0


def test_aliases_are_the_classes(keras):
    assert R.l1 is R.L1 and R.l2 is R.L2 and R.l1_l2 is R.L1L2
    assert R.orthogonal_regularizer is R.OrthogonalRegularizer


@pytest.mark.parametrize("name", sorted({**R.ALL, **R.ALIASES}))
def test_get_by_name(name):
    assert isinstance(R.get(name), {**R.ALL, **R.ALIASES}[name])


def test_get_accepts_none_instances_classes_dicts_callables():
    reg = R.L2(0.5)
    assert R.get(None) is None
    assert R.get(reg) is reg
    assert isinstance(R.get(R.L1), R.L1)
    assert R.get({"class_name": "L1L2", "config": {"l1": 0.5, "l2": 0.0}}).l1 == 0.5
    fn = lambda v: jnp.sum(v)  # noqa: E731
    assert R.get(fn) is fn


def test_custom_regularizer_round_trip():
    class Sum(R.Regularizer):
        def __init__(self, k=1.0):
            self.k = k

        def __call__(self, x):
            return self.k * jnp.sum(x)

        def get_config(self):
            return {"k": self.k}

    clone = R.deserialize(R.serialize(Sum(2.0)), custom_objects={"Sum": Sum})
    assert clone.k == 2.0
    assert R.Regularizer()(jnp.ones(2)) == 0.0


@pytest.mark.parametrize(
    "make,match",
    [
        (lambda: R.L1(-1), r"Invalid value for argument `l1`: expected a non-negative float. Received: l1=-1"),
        (lambda: R.L2(float("nan")), "argument `l2`.*Received: l2=nan"),
        (lambda: R.L1L2(l1="a"), "argument `l1`.*Received: l1='a'"),
        (lambda: R.OrthogonalRegularizer(factor=-0.1), "argument `factor`"),
        (lambda: R.OrthogonalRegularizer(mode="diag"), "expected 'rows' or 'columns'. Received: mode='diag'"),
        (lambda: R.OrthogonalRegularizer()(jnp.ones((2, 2, 2))), r"needs a 2-D weight.*\(2, 2, 2\)"),
        (lambda: R.get(5), "Could not interpret regularizer identifier: 5"),
        (lambda: R.get("l3"), "Unknown regularizer identifier: 'l3'.*Did you mean"),
    ],
)
def test_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_unknown_name_is_an_unknown_identifier_error():
    with pytest.raises(errors.UnknownIdentifierError, match="Known regularizer identifiers"):
        R.get("nope")


def test_base_get_config_says_what_to_do():
    with pytest.raises(NotImplementedError, match="does not implement `get_config\\(\\)`"):
        R.Regularizer().get_config()
