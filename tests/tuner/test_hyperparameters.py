"""`HyperParameters` against keras-tuner 1.4: same values, configs, sampling, conditions."""

import math

import numpy as np
import pytest

import kerax.tuner as kt
from kerax.tuner import hp_types

kt_ref = pytest.importorskip("keras_tuner")

PROBS = [0.0, 0.01, 0.1, 0.25, 0.333, 0.5, 0.66, 0.75, 0.9, 0.99, 0.999999]

SPECS = [
    ("Int", dict(name="a", min_value=1, max_value=10)),
    ("Int", dict(name="b", min_value=32, max_value=256, step=32, default=64)),
    ("Int", dict(name="c", min_value=2, max_value=64, step=2, sampling="log")),
    ("Int", dict(name="d", min_value=1, max_value=1000, sampling="log")),
    ("Int", dict(name="e", min_value=2, max_value=32, step=2, sampling="reverse_log")),
    ("Float", dict(name="f", min_value=0.0, max_value=1.0)),
    ("Float", dict(name="g", min_value=0, max_value=1, step=0.2)),
    ("Float", dict(name="h", min_value=1e-4, max_value=1e-1, sampling="log")),
    ("Float", dict(name="i", min_value=0.001, max_value=10, step=10, sampling="log")),
    ("Float", dict(name="j", min_value=1e-3, max_value=1.0, sampling="reverse_log")),
    ("Choice", dict(name="k", values=["relu", "tanh", "gelu"])),
    ("Choice", dict(name="l", values=[8, 16, 32], default=16)),
    ("Choice", dict(name="m", values=[0.1, 0.5])),
    ("Boolean", dict(name="n")),
    ("Boolean", dict(name="o", default=True)),
    ("Fixed", dict(name="p", value=3)),
    ("Fixed", dict(name="q", value="adam")),
]


def _pair(kind, kwargs):
    return getattr(hp_types, kind)(**kwargs), getattr(kt_ref.engine.hyperparameters, kind)(
        **kwargs)


@pytest.mark.parametrize("kind, kwargs", SPECS, ids=[s[1]["name"] for s in SPECS])
def test_each_kind_samples_and_configures_as_keras_tuner(kind, kwargs):
    ours, ref = _pair(kind, kwargs)
    assert ours.get_config() == ref.get_config()
    assert repr(ours) == repr(ref)
    assert ours.default == ref.default
    assert sorted(map(str, ours.values)) == sorted(map(str, ref.values))
    for p in PROBS:
        assert ours.prob_to_value(p) == ref.prob_to_value(p), p
    for seed in range(20):
        value = ours.random_sample(seed)
        assert value == ref.random_sample(seed)
        assert math.isclose(ours.value_to_prob(value), ref.value_to_prob(value))
    assert type(ours).from_config(ours.get_config()).get_config() == ours.get_config()


def test_sampled_values_lie_in_range_and_log_sampling_is_uniform_in_log_space():
    hp = hp_types.Float("lr", 1e-5, 1e-1, sampling="log")
    values = np.array([hp.random_sample(s) for s in range(2000)])
    assert values.min() >= 1e-5 and values.max() <= 1e-1
    # A quarter of the log range each: 1e-5..1e-4, ..., 1e-2..1e-1.
    counts = np.histogram(np.log10(values), bins=[-5, -4, -3, -2, -1])[0]
    assert np.all(np.abs(counts / 2000 - 0.25) < 0.05), counts
    ints = [hp_types.Int("u", 3, 7).random_sample(s) for s in range(200)]
    assert set(ints) == {3, 4, 5, 6, 7}


def _declare(hp):
    """The same calls on either library's `HyperParameters`."""
    out = [hp.Choice("model", ["mlp", "cnn"]), hp.Int("units", 8, 64, step=8)]
    with hp.conditional_scope("model", ["mlp"]):
        out.append(hp.Int("layers", 1, 3))
    out.append(hp.Float("filters_scale", 0.5, 2.0, parent_name="model", parent_values="cnn"))
    with hp.name_scope("block"):
        out.append(hp.Boolean("bn"))
    out.append(hp.Fixed("epochs", 2))
    return out


def test_conditional_scopes_match_keras_tuner():
    ours, ref = kt.HyperParameters(), kt_ref.HyperParameters()
    assert _declare(ours) == _declare(ref)
    assert ours.get_config() == ref.get_config()
    assert ours.values == ref.values
    # Switch the parent: the conditional children swap activity.
    for hp in (ours, ref):
        hp.values["model"] = "cnn"
        hp.ensure_active_values()
    assert sorted(ours.values) == sorted(ref.values) == [
        "block/bn", "epochs", "filters_scale", "model", "units"]
    assert [ours.is_active(h) for h in ours.space] == [ref.is_active(h) for h in ref.space]
    assert ours.is_active("filters_scale") and not ours.is_active("layers")
    assert ours.get("filters_scale") is not None and "layers" not in ours
    with pytest.raises(ValueError, match="layers is currently inactive"):
        ours.get("layers")
    copied = kt.HyperParameters.from_config(ours.get_config())
    assert copied.get_config() == ours.get_config() and copied.values == ours.values


@pytest.mark.parametrize("call, match", [
    (lambda hp: hp.Int("x", 5, 1), "min_value 5 is greater than the max_value 1"),
    (lambda hp: hp.Int("x", 1, 5, step=1.5), "step must be an int"),
    (lambda hp: hp.Float("x", 0.0, 1.0, sampling="log"), "does not support negative values"),
    (lambda hp: hp.Float("x", 1.0, 8.0, step=0.5, sampling="log"), "expected step > 1"),
    (lambda hp: hp.Float("x", 0.1, 1.0, sampling="cubic"), "sampling must be one of"),
    (lambda hp: hp.Choice("x", []), "`values` must be provided"),
    (lambda hp: hp.Choice("x", [1, "a"]), "only one type of value"),
    (lambda hp: hp.Choice("x", [1, 2], default=3), "default value should be one of"),
    (lambda hp: hp.Choice("x", ["a", "b"], ordered=True), "`ordered` must be `False`"),
    (lambda hp: hp.Boolean("x", default=2), "must be a Python boolean"),
    (lambda hp: hp.Fixed("x", [1]), "`Fixed` value must be"),
    (lambda hp: hp.Int("x", 1, 2, parent_name="nope", parent_values=[1]),
     "named: nope not defined"),
])
def test_bad_arguments_raise_as_keras_tuner(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call(kt.HyperParameters())
    with pytest.raises((ValueError, TypeError)):
        call(kt_ref.HyperParameters())


def test_unknown_and_self_parented_names():
    hp = kt.HyperParameters()
    with pytest.raises(KeyError, match="does not exist"):
        hp.get("missing")
    hp.Choice("a", ["x", "y"])
    with pytest.raises(ValueError, match="cannot have the same name as its parent"):
        hp.Choice("a", ["x"], parent_name="a", parent_values=["x"])
