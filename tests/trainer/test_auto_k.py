"""`steps_per_execution="auto"`: K from a FLOPs estimate, bounded by the compiled
execution's memory analysis; the fit's shuffle seed drawn on the host."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kerax
from kerax.trainer import compile_cache
from kerax.trainer import pytrees
from kerax.trainer import step_costs

N, BATCH = 64, 8  # 8 steps per epoch: "auto" runs them as one execution


def _data():
    rng = np.random.default_rng(0)
    return (rng.standard_normal((N, 16)).astype("float32"),
            rng.integers(0, 3, N).astype("int32"))


def _fit(budget=None, monkeypatch=None, seed=3):
    if budget is not None:
        monkeypatch.setattr(step_costs, "EXECUTION_MEMORY_BUDGET", budget)
    kerax.utils.set_random_seed(seed)
    model = kerax.Sequential([kerax.Input((16,)), kerax.layers.Dense(8, activation="relu"),
                              kerax.layers.Dense(3)])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    x, y = _data()
    with compile_cache.track() as stats:
        history = model.fit(x, y, batch_size=BATCH, epochs=2, verbose=0)
    return model, history.history, stats


@pytest.fixture(scope="module")
def reference():
    return _fit()


def test_auto_k_fits_the_budget_in_one_compile(reference):
    model, _, stats = reference
    memory = model._execution_memory
    assert model._fit_steps_per_execution == N // BATCH
    assert memory["steps_per_execution"] == N // BATCH
    assert 0 < memory["bytes"] <= memory["budget"]
    # The execution compiled for its memory analysis is the one that runs: one train
    # program, no second compile for it.
    assert model.compile_counts["train"] == 1
    assert [e["compiles"] for e in model.compile_stats] == [1, 0]


def test_a_small_memory_budget_halves_k_and_trains_the_same(reference, monkeypatch):
    ref_model, ref_history, _ = reference
    budget = ref_model._execution_memory["bytes"] - 1  # K=8 no longer fits
    model, history, _ = _fit(budget, monkeypatch)
    k = model._fit_steps_per_execution
    assert k < N // BATCH
    assert model._execution_memory["steps_per_execution"] == k
    assert model._execution_memory["bytes"] <= budget or k == 1
    np.testing.assert_allclose(history["loss"], ref_history["loss"], rtol=1e-5)
    np.testing.assert_allclose(history["accuracy"], ref_history["accuracy"])
    for a, b in zip(model.get_weights(), ref_model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_a_budget_below_the_fixed_memory_keeps_k(monkeypatch):
    # The data and the state alone exceed it: a smaller K cannot help, so K stays.
    model, _, _ = _fit(1, monkeypatch)
    assert model._fit_steps_per_execution == N // BATCH


def test_the_budget_is_a_fraction_of_the_memory(monkeypatch):
    monkeypatch.setattr(step_costs, "EXECUTION_MEMORY_BUDGET", None)
    full = step_costs.execution_memory_budget()
    monkeypatch.setattr(step_costs, "EXECUTION_MEMORY_FRACTION", 0.25)
    assert 0 < step_costs.execution_memory_budget() < full
    monkeypatch.setattr(step_costs, "EXECUTION_MEMORY_BUDGET", 1234)
    assert step_costs.execution_memory_budget() == 1234


def test_execution_memory_counts_temporaries():
    a = jnp.ones((256,), jnp.float32)
    compiled = jax.jit(lambda v: jnp.outer(v, v).sum(0)).lower(a).compile()
    needed, fixed = step_costs.execution_memory(compiled)
    assert fixed == 2 * 256 * 4  # the argument and the output
    assert needed >= fixed


@pytest.mark.parametrize("make, fwd_flops", [
    (lambda: (lambda a, b: a @ b, (jnp.ones((8, 4)), jnp.ones((4, 2)))), 2 * 8 * 2 * 4),
    (lambda: (lambda x, w: jax.lax.conv(x, w, (1, 1), "VALID"),
              (jnp.ones((1, 2, 5, 5)), jnp.ones((3, 2, 3, 3)))), 2 * 3 * 3 * 3 * 2 * 9),
    (lambda: (lambda a: jnp.tanh(a) + 1, (jnp.ones((4, 5)),)), 2 * 20),
])
def test_flop_estimate(make, fwd_flops):
    fn, args = make()
    jaxpr = jax.make_jaxpr(fn)(*args)
    assert step_costs.jaxpr_flops(jaxpr) == fwd_flops
    assert step_costs.train_step_flops(jaxpr, num_params=10) == 3 * fwd_flops + 120


def test_shuffle_seed_is_host_side_and_follows_set_random_seed():
    key = jax.random.PRNGKey(7)
    seed = pytrees.host_seed(key)
    assert 0 <= seed < 2**31 - 1
    assert seed == pytrees.host_seed(jax.random.PRNGKey(7))
    assert seed != pytrees.host_seed(jax.random.PRNGKey(8))
    assert seed == pytrees.host_seed(jax.random.key(7))  # typed keys too


def test_shuffled_fits_repeat_under_set_random_seed(reference, monkeypatch):
    _, ref_history, _ = reference
    _, history, _ = _fit()
    assert history["loss"] == ref_history["loss"]
    _, other, _ = _fit(seed=4)
    assert other["loss"] != ref_history["loss"]


def test_auto_k_lengthens_executions_whose_fresh_temporaries_cost_much():
    from kerax.trainer.steps_per_execution import auto_k

    # The time target alone: 0.2 s / 10 ms = 20 steps, on every backend.
    assert auto_k(0.01, 1_000, "cpu") == auto_k(0.01, 1_000, "gpu") == 20
    # ~40 ms of fresh temporaries per execution on XLA:CPU: executions of 2% of it.
    assert auto_k(0.01, 100e6, "cpu") == 200
    assert auto_k(0.01, 100e6, "gpu") == 20  # no such cost there
    # Capped at _MAX_EXECUTION_SECONDS (2 s), but never below the time target.
    assert auto_k(0.5, 1e9, "cpu") == 4
    assert auto_k(10.0, 1e10, "cpu") == 1


def test_fit_k_counts_the_fresh_temporaries(monkeypatch):
    from kerax.trainer import steps_per_execution as spe

    monkeypatch.setattr(spe, "_TARGET_EXECUTION_SECONDS", 1e-9)  # one step by time
    monkeypatch.setattr(spe, "_FRESH_MEMORY_SECONDS_PER_BYTE", {})
    model, _, _ = _fit()
    assert model._fit_steps_per_execution == 1
    monkeypatch.setattr(spe, "_FRESH_MEMORY_SECONDS_PER_BYTE", {jax.default_backend(): 1.0})
    model, _, _ = _fit()
    assert model._fit_steps_per_execution == N // BATCH  # the whole epoch


def test_jaxpr_bytes_counts_computed_values_and_loop_bodies_once():
    a = jnp.ones((4, 5), jnp.float32)
    assert step_costs.jaxpr_bytes(jax.make_jaxpr(lambda v: jnp.tanh(v) + 1)(a)) == 2 * 80
    scan = jax.make_jaxpr(lambda v: jax.lax.scan(lambda c, _: (c * 2, None), v, None,
                                                 length=7)[0])(a)
    assert step_costs.jaxpr_bytes(scan) == 80  # the body, once (not 7 times)
    keys = jax.make_jaxpr(lambda k: jax.random.split(k))(jax.random.key(0))
    assert step_costs.jaxpr_bytes(keys) > 0  # typed keys have no NumPy dtype
