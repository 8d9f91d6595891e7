"""kerax.optimizers.schedules against Keras 3 at 50 step counts, jitted and eager."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from kerax.optimizers import schedules

STEPS = np.arange(0, 250, 5)  # 50 step counts

CASES = [
    ("ExponentialDecay", dict(initial_learning_rate=0.1, decay_steps=30, decay_rate=0.7)),
    ("ExponentialDecay", dict(initial_learning_rate=0.1, decay_steps=30, decay_rate=0.7,
                              staircase=True)),
    ("PiecewiseConstantDecay", dict(boundaries=[20, 100, 180], values=[1.0, 0.5, 0.1, 0.01])),
    ("PolynomialDecay", dict(initial_learning_rate=0.1, decay_steps=120, power=2.0)),
    ("PolynomialDecay", dict(initial_learning_rate=0.1, decay_steps=70, power=0.5,
                             cycle=True)),
    ("InverseTimeDecay", dict(initial_learning_rate=0.1, decay_steps=10, decay_rate=0.5)),
    ("InverseTimeDecay", dict(initial_learning_rate=0.1, decay_steps=10, decay_rate=0.5,
                              staircase=True)),
    ("CosineDecay", dict(initial_learning_rate=0.1, decay_steps=200, alpha=0.1)),
    ("CosineDecay", dict(initial_learning_rate=0.0, decay_steps=150, warmup_target=0.2,
                         warmup_steps=40)),
    ("CosineDecayRestarts", dict(initial_learning_rate=0.1, first_decay_steps=30)),
    ("CosineDecayRestarts", dict(initial_learning_rate=0.1, first_decay_steps=40, t_mul=1.0,
                                 m_mul=0.8, alpha=0.05)),
]
IDS = [f"{n}-{i}" for i, (n, _) in enumerate(CASES)]


@pytest.mark.parametrize("name,kwargs", CASES, ids=IDS)
def test_matches_keras(keras, name, kwargs):
    ref = getattr(keras.optimizers.schedules, name)(**kwargs)
    expected = np.array([float(ref(int(s))) for s in STEPS])
    sched = getattr(schedules, name)(**kwargs)
    eager = np.array([float(sched(int(s))) for s in STEPS])
    traced = np.asarray(jax.jit(jax.vmap(sched))(jnp.asarray(STEPS, jnp.int32)))
    np.testing.assert_allclose(eager, expected, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(traced, expected, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("name,kwargs", CASES, ids=IDS)
def test_config_round_trip(keras, name, kwargs):
    sched = getattr(schedules, name)(**kwargs)
    config = schedules.serialize(sched)
    assert config["config"] == keras.optimizers.schedules.serialize(
        getattr(keras.optimizers.schedules, name)(**kwargs))["config"]
    restored = schedules.deserialize(config)
    assert type(restored) is type(sched) and restored.get_config() == sched.get_config()


def test_base_class_errors():
    with pytest.raises(NotImplementedError, match="must override `__call__"):
        schedules.LearningRateSchedule()(0)
    with pytest.raises(NotImplementedError, match="must override `get_config"):
        schedules.LearningRateSchedule().get_config()


@pytest.mark.parametrize("cls,kwargs,match", [
    (schedules.ExponentialDecay, dict(initial_learning_rate=0.1, decay_steps=0,
                                      decay_rate=0.5), "`decay_steps` must be > 0"),
    (schedules.CosineDecayRestarts, dict(initial_learning_rate=0.1, first_decay_steps=0),
     "`first_decay_steps` must be > 0"),
    (schedules.PiecewiseConstantDecay, dict(boundaries=[1, 2], values=[1.0]),
     "1 less than the length of values"),
])
def test_argument_errors(cls, kwargs, match):
    with pytest.raises(ValueError, match=match):
        cls(**kwargs)


def test_public_names_match_keras(keras):
    public = {n for n in dir(keras.optimizers.schedules) if not n.startswith("_")}
    assert public - set(dir(schedules)) == set()
