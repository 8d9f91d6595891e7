"""`model(x)` on a built model: the first `EAGER_CALLS` calls per input shape, dtype and
`training` run eagerly, later ones one jitted `apply` (`kerax.trainer.eager_call`) where
the forward is pure; outputs, masks, losses, state and the live weights stay as Keras 3's
eager call."""

import jax
import numpy as np
import pytest

import kerax
from kerax.errors import LayerShapeError
from kerax.trainer import eager_call
from kerax.trainer.eager_call import EAGER_CALLS

CALLS = EAGER_CALLS + 2  # eager calls, then jitted ones


def _mlp(lib, seed=0):
    lib.utils.set_random_seed(seed)
    return lib.Sequential([lib.Input((6,)), lib.layers.Dense(16, activation="relu"),
                           lib.layers.Dense(3)])


def _jitted(model):
    return [k for k, v in model._programs.items()
            if k[0] == "eager_call" and not isinstance(v, (int, str))]


@pytest.mark.parametrize("training", [None, False])
def test_repeated_calls_match_the_eager_call_and_keras(keras, rng, training):
    x = rng.normal(size=(5, 6)).astype("float32")
    model, theirs = _mlp(kerax), _mlp(keras)
    theirs.set_weights(model.get_weights())
    kwargs = {} if training is None else {"training": training}
    outs = [np.asarray(model(x, **kwargs)) for _ in range(CALLS)]
    assert len(_jitted(model)) == 1  # the first calls ran eagerly, later ones jitted
    want = np.asarray(theirs(x, **kwargs))
    for out in outs:
        np.testing.assert_allclose(out, outs[0], rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(out, want, rtol=1e-5, atol=1e-6)


def test_new_weights_from_set_weights_assign_and_fit_are_used(rng):
    model = _mlp(kerax)
    model.compile(optimizer="sgd", loss="mse")
    x = rng.normal(size=(4, 6)).astype("float32")
    y = rng.normal(size=(4, 3)).astype("float32")
    before = [np.asarray(model(x)) for _ in range(CALLS)][-1]
    model.fit(x, y, epochs=2, verbose=0)
    after_fit = np.asarray(model(x))
    assert not np.allclose(after_fit, before)
    np.testing.assert_allclose(after_fit, model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
    model.set_weights([np.zeros_like(w) for w in model.get_weights()])
    np.testing.assert_array_equal(np.asarray(model(x)), np.zeros((4, 3)))
    model.layers[-1].bias.assign(np.ones(3, "float32"))
    np.testing.assert_array_equal(np.asarray(model(x)), np.ones((4, 3)))
    assert len(_jitted(model)) == 1


def test_training_true_runs_eagerly_and_draws_new_dropout_masks_like_keras(keras):
    x = np.ones((2, 8), "float32")
    outs = {}
    for lib in (kerax, keras):
        lib.utils.set_random_seed(0)
        model = lib.Sequential([lib.Input((8,)), lib.layers.Dropout(0.5, seed=3)])
        outs[lib.__name__] = [np.asarray(model(x, training=True)) for _ in range(CALLS)]
        outs[lib.__name__ + " inference"] = [np.asarray(model(x)) for _ in range(CALLS)]
    for a, b in zip(outs["kerax"], outs["keras"]):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(outs["kerax"][1], outs["kerax"][2])
    for out in outs["kerax inference"]:
        np.testing.assert_array_equal(out, x)


def test_batch_normalization_state_after_training_calls_and_fit(keras, rng):
    x = rng.normal(size=(8, 4)).astype("float32") * 3 + 1
    got = {}
    for lib in (kerax, keras):
        lib.utils.set_random_seed(0)
        model = lib.Sequential([lib.Input((4,)), lib.layers.BatchNormalization()])
        model.compile(optimizer="sgd", loss="mse")
        inference = [np.asarray(model(x, training=False)) for _ in range(CALLS)]
        for _ in range(2):
            model(x, training=True)  # updates the moving statistics
        after_training_calls = [np.asarray(model(x)) for _ in range(CALLS)]
        model.fit(x, x, epochs=1, verbose=0)
        after_fit = np.asarray(model(x))
        got[lib.__name__] = (inference, after_training_calls, after_fit)
    for ours, theirs in zip(got["kerax"], got["keras"]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-5)
    assert not np.allclose(got["kerax"][0][1], got["kerax"][1][1])


def test_output_masks_and_added_losses_stay_as_keras(keras, rng):
    ids = np.array([[1, 2, 0, 0], [3, 0, 0, 0]], "int32")
    x = rng.normal(size=(3, 5)).astype("float32")
    for lib in (kerax, keras):
        inputs = lib.Input((4,), dtype="int32")
        masked = lib.Model(inputs, lib.layers.Embedding(5, 2, mask_zero=True)(inputs))
        masks = [np.asarray(masked(ids)._keras_mask) for _ in range(CALLS)]
        for m in masks:
            np.testing.assert_array_equal(m, ids != 0)
        regularized = lib.Sequential([lib.Input((5,)), lib.layers.Dense(
            2, kernel_initializer="ones", activity_regularizer="l2")])
        losses = []
        for scale in range(1, CALLS + 1):
            regularized(x * scale)
            losses.append(float(np.asarray(regularized.losses[0])))
        if lib is kerax:
            ours = losses
        assert len(regularized.losses) == 1
    np.testing.assert_allclose(ours, losses, rtol=1e-5)


def test_a_layer_of_the_users_runs_on_every_call_as_keras(keras, rng):
    x = rng.normal(size=(2, 3)).astype("float32")
    counts = []
    for lib in (kerax, keras):
        class Count(lib.layers.Layer):
            python_calls = 0

            def build(self, shape):
                self.count = self.add_weight(shape=(), initializer="zeros",
                                             trainable=False, name="count")

            def call(self, x):
                type(self).python_calls += 1
                self.count.assign(self.count + 1.0)
                return x * 2.0

        layer = Count()
        model = lib.Sequential([lib.Input((3,)), layer])
        before = Count.python_calls  # (building traces `call` too)
        for _ in range(CALLS):
            np.testing.assert_allclose(np.asarray(model(x)), x * 2.0)
        counts.append((Count.python_calls - before, float(np.asarray(layer.count))))
    assert counts[0] == counts[1] == (CALLS, float(CALLS))


def test_a_new_shape_after_jitted_calls_gets_the_eager_error(rng):
    model = _mlp(kerax)
    x = rng.normal(size=(2, 6)).astype("float32")
    for _ in range(CALLS):
        model(x)
    with pytest.raises((ValueError, LayerShapeError), match=r"\(2, 7\)"):
        model(np.ones((2, 7), "float32"))


def test_a_changed_sequential_uses_its_new_layers(rng):
    model = _mlp(kerax)
    x = rng.normal(size=(2, 6)).astype("float32")
    for _ in range(CALLS):
        model(x)
    model.add(kerax.layers.Dense(1, kernel_initializer="ones", bias_initializer="zeros"))
    outs = [np.asarray(model(x)) for _ in range(CALLS)]
    assert outs[0].shape == outs[1].shape == (2, 1)
    np.testing.assert_allclose(outs[1], outs[0], rtol=1e-6)


def test_a_forward_that_fails_to_trace_keeps_running_eagerly(rng, monkeypatch):
    """A forward that only runs on concrete values (say a host-side layer) fails while
    jit traces it: the call runs eagerly, now and later, and raises no error of jit's."""
    def fails_to_trace(self, variables, x):
        raise jax.errors.TracerArrayConversionError(x)

    monkeypatch.setattr(eager_call._Jitted, "_forward", fails_to_trace)
    model = _mlp(kerax)
    x = rng.normal(size=(2, 6)).astype("float32")
    outs = [np.asarray(model(x)) for _ in range(CALLS)]
    assert not _jitted(model)
    np.testing.assert_allclose(outs[-1], outs[0], rtol=1e-6)
