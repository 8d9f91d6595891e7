"""The lean training step: what it skips when a feature is off gives the same numbers.

Each piece of step overhead that is skipped (the RNG split, the gather of unshuffled
batches, the optimizer's injected-hyperparameter scaffolding) must leave the training
trajectory unchanged.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kerax
from kerax.trainer import steps as steps_lib
from kerax.trainer import train_state_store


def _data(n=48, d=5, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((n, d)).astype("float32"),
            rng.integers(0, classes, n).astype("int32"))


def _model(*layers, optimizer="adam"):
    model = kerax.Sequential([kerax.Input((5,)), *layers, kerax.layers.Dense(3)])
    model.compile(optimizer=optimizer, metrics=["accuracy"],
                  loss=kerax.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


# ---------------------------------------------------------------- randomness --
@pytest.mark.parametrize("layers, expected", [
    ((), False),                                          # a folded-in key, never drawn
    ((kerax.layers.Dense(4),), False),
    ((kerax.layers.Dropout(0.5),), True),
    ((kerax.layers.Dense(4), kerax.layers.GaussianNoise(0.1)), True),
])
def test_uses_randomness_counts_only_keys_that_are_drawn(layers, expected):
    model = _model(*layers)
    x, _ = _data()
    model.build((None, 5))
    variables = model.variables

    def forward(key):
        return model.apply(variables, jnp.asarray(x[:4]), training=True, rng=key)

    assert steps_lib.uses_randomness(forward, jax.random.PRNGKey(0)) is expected


def test_uses_randomness_sees_a_key_returned_in_the_state():
    def forward(key):
        return jnp.ones(2), {"key": jax.random.split(key)[0]}

    assert steps_lib.uses_randomness(forward, jax.random.PRNGKey(0))


def test_dropout_still_draws_a_new_mask_every_step():
    x, y = _data()
    model = _model(kerax.layers.Dropout(0.5))
    model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    before = np.asarray(jax.random.key_data(train_state_store.train_rng(model)))
    model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    after = train_state_store.train_rng(model)
    assert not np.array_equal(before, np.asarray(jax.random.key_data(after)))


# ---------------------------------------------------------- contiguous plans --
@pytest.mark.parametrize("idx, mask, n, expected", [
    (np.arange(8).reshape(2, 4), np.ones((2, 4), bool), 8, True),
    (np.arange(4, 12).reshape(2, 4), np.ones((2, 4), bool), 12, True),
    (np.arange(8).reshape(2, 4)[::-1], np.ones((2, 4), bool), 8, False),   # shuffled
    (np.arange(8).reshape(2, 4), np.ones((2, 4), bool), 7, False),         # past the end
    (np.arange(8).reshape(2, 4), np.array([[1, 1, 1, 1], [1, 1, 0, 0]], bool), 8, False),
    (np.array([[0, 1], [5, 6]]), np.ones((2, 2), bool), 8, False),           # a jump
    (np.zeros((0, 4), np.int32), np.zeros((0, 4), bool), 8, False),
])
def test_is_contiguous(idx, mask, n, expected):
    assert steps_lib.is_contiguous(idx, mask, n) is expected


def _fit_from(start, x, y):
    model = _model()
    model.build((None, 5))
    model.set_weights(start)
    history = model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    return model, history


def test_unshuffled_fit_slices_batches_with_the_same_result(monkeypatch):
    x, y = _data()
    first = _model()
    first.build((None, 5))
    start = [np.asarray(w) for w in first.get_weights()]

    sliced, history = _fit_from(start, x, y)
    assert any(sig[-2] for sig in sliced._programs if sig[0] == "train")
    monkeypatch.setattr(steps_lib, "is_contiguous", lambda *a: False)
    gathered, gathered_history = _fit_from(start, x, y)
    assert not any(sig[-2] for sig in gathered._programs if sig[0] == "train")

    for a, b in zip(sliced.get_weights(), gathered.get_weights()):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(history.history["loss"], gathered_history.history["loss"],
                               rtol=1e-6)


# ----------------------------------------------------------------- unguarded --
@pytest.mark.parametrize("mask, unroll, expected", [
    (np.ones((3, 4), bool), 1, True),
    (np.array([[1, 1], [1, 0]], bool), 1, True),        # a padded last batch has rows
    (np.array([[1, 1], [0, 0]], bool), 1, False),       # a step with no real row
    (np.ones((1, 4), bool), 1, False),                  # one step: no loop
    (np.ones((3, 4), bool), True, False),               # unrolled (convolutions on CPU)
])
def test_can_run_unguarded(mask, unroll, expected):
    assert steps_lib.can_run_unguarded(mask, unroll) is expected


def test_fit_of_a_tiny_model_uses_the_unguarded_loop():
    x, y = _data()
    model = _model()
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    assert any(sig[-1] for sig in model._programs if sig[0] == "train")


def _nan_data(n=40):
    x, y = _data(n=n)
    x = x.copy()
    x[20:24] = np.nan  # batch 2 of 5 (batch size 8)
    return x, y


# 5 steps in one execution; or executions of 2 steps, the one after the bad one starting
# from a state that is already bad (the host reads the flag one execution late).
@pytest.mark.parametrize("n, spe", [(40, 5), (48, 2)])
def test_a_nan_inside_an_unguarded_execution_keeps_the_last_good_state(n, spe):
    x, y = _nan_data(n)
    first = _model()
    first.build((None, 5))
    start = [np.asarray(w) for w in first.get_weights()]
    reference = _model()
    reference.build((None, 5))
    reference.set_weights(start)
    reference.fit(x[:16], y[:16], batch_size=8, epochs=1, shuffle=False, verbose=0)

    model = _model()
    model.compile(optimizer="adam", steps_per_execution=spe, metrics=["accuracy"],
                  loss=kerax.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.build((None, 5))
    model.set_weights(start)
    with pytest.raises(kerax.errors.NonFiniteLossError, match="training step 2"):
        model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(model.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6, atol=1e-7)
    assert model.optimizer.iterations == 2


@pytest.mark.parametrize("n", [48, 44])  # whole batches; a padded last batch
def test_two_phase_execution_equals_the_guarded_loop(monkeypatch, n):
    x, y = _data(n=n)
    first = _model()
    first.build((None, 5))
    start = [np.asarray(w) for w in first.get_weights()]
    results = []
    for limit in (steps_lib.UNGUARDED_MAX_STATE_BYTES, 0):
        monkeypatch.setattr(steps_lib, "UNGUARDED_MAX_STATE_BYTES", limit)
        model = _model()
        model.build((None, 5))
        model.set_weights(start)
        history = model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
        results.append((model.get_weights(), history.history, model.optimizer.iterations))
    (w1, h1, it1), (w2, h2, it2) = results
    for a, b in zip(w1, w2):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6, atol=1e-7)
    for key in h1:
        np.testing.assert_allclose(h1[key], h2[key], rtol=1e-6)
    assert it1 == it2 == 2 * (-(-n // 8))
