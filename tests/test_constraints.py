"""kerax.constraints against keras.constraints: names, values, configs, errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from kerax import constraints as C
from kerax import errors

CASES = [
    ("Constraint", {}),
    ("NonNeg", {}),
    ("MaxNorm", {}),
    ("MaxNorm", {"max_value": 0.5, "axis": 1}),
    ("MaxNorm", {"max_value": 1.0, "axis": [0, 1]}),
    ("UnitNorm", {}),
    ("UnitNorm", {"axis": -1}),
    ("MinMaxNorm", {}),
    ("MinMaxNorm", {"min_value": 0.5, "max_value": 1.5, "rate": 0.7, "axis": 1}),
]
IDS = [f"{n}-{kw}" for n, kw in CASES]


@pytest.fixture(scope="module")
def w():
    # 3-D, like a Conv1D kernel; scaled so some norms fall below and some above the bounds.
    return jnp.asarray(np.random.default_rng(0).normal(size=(2, 3, 4)) * 0.6, jnp.float32)


def test_every_keras_constraint_exists(keras):
    public = {n for n in dir(keras.constraints) if not n.startswith("_")}
    assert sorted(n for n in public if not hasattr(C, n)) == []


def test_name_table_matches_keras(keras):
    from keras.src.constraints import ALL_OBJECTS_DICT

    names = {**C.ALL, **C.ALIASES}
    assert set(names) == set(ALL_OBJECTS_DICT)
    for name, cls in ALL_OBJECTS_DICT.items():
        assert names[name].__name__ == cls.__name__


@pytest.mark.parametrize("name,kwargs", CASES, ids=IDS)
def test_values_match_keras(keras, w, name, kwargs):
    expected = getattr(keras.constraints, name)(**kwargs)(w)
    got = getattr(C, name)(**kwargs)(w)
    assert got.shape == expected.shape and got.dtype == expected.dtype
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name,kwargs", CASES, ids=IDS)
def test_config_matches_keras_and_round_trips(keras, name, kwargs):
    expected = getattr(keras.constraints, name)(**kwargs).get_config()
    con = getattr(C, name)(**kwargs)
    assert con.get_config() == expected
    clone = C.deserialize(C.serialize(con))
    assert type(clone) is type(con) and clone.get_config() == expected


def test_constraints_are_jittable(w):
    np.testing.assert_allclose(jax.jit(C.MaxNorm(1.0))(w), C.MaxNorm(1.0)(w), rtol=1e-6)


def test_max_norm_caps_column_norms():
    out = C.MaxNorm(1.0)(jnp.array([[3.0, 0.3], [4.0, 0.4]]))
    np.testing.assert_allclose(jnp.linalg.norm(out, axis=0), [1.0, 0.5], rtol=1e-5)


def test_aliases_are_the_classes():
    assert C.max_norm is C.MaxNorm and C.min_max_norm is C.MinMaxNorm
    assert C.non_neg is C.NonNeg and C.unit_norm is C.UnitNorm


@pytest.mark.parametrize("name", sorted({**C.ALL, **C.ALIASES}))
def test_get_by_name(name):
    assert isinstance(C.get(name), {**C.ALL, **C.ALIASES}[name])


def test_get_accepts_none_instances_classes_dicts_callables():
    con = C.MaxNorm(3)
    assert C.get(None) is None
    assert C.get(con) is con
    assert isinstance(C.get(C.NonNeg), C.NonNeg)
    assert C.get({"class_name": "UnitNorm", "config": {"axis": 1}}).axis == 1
    fn = lambda v: v  # noqa: E731
    assert C.get(fn) is fn


@pytest.mark.parametrize(
    "make,match",
    [
        (lambda: C.get(1.5), "Could not interpret constraint identifier: 1.5"),
        (lambda: C.get("maxnorm"), "Unknown constraint identifier: 'maxnorm'.*Did you mean: 'max_norm'"),
    ],
)
def test_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_unknown_name_is_an_unknown_identifier_error():
    with pytest.raises(errors.UnknownIdentifierError, match="Known constraint identifiers"):
        C.deserialize("nope")
