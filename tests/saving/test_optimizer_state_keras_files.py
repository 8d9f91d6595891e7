"""Optimizer state in `.keras` files, both ways with Keras 3, for the optimizers whose
Keras slot layout is not a plain per-variable interleaving (RMSprop with momentum and
centering, AMSGrad, Nadam's extra scalar, SGD with momentum)."""

import numpy as np
import pytest

import kerax

X = np.random.default_rng(0).random((8, 4)).astype("float32")
Y = np.random.default_rng(1).random((8, 2)).astype("float32")

OPTIMIZERS = {
    "rmsprop_centered": ("RMSprop", {"momentum": 0.5, "centered": True}),
    "adam_amsgrad": ("Adam", {"amsgrad": True}),
    "nadam": ("Nadam", {}),
    "sgd_momentum": ("SGD", {"momentum": 0.9}),
}


def _trained(lib, which):
    name, kwargs = OPTIMIZERS[which]
    model = lib.Sequential([lib.Input((4,)), lib.layers.Dense(3, name="a"),
                            lib.layers.Dense(2, name="b")], name="seq")
    model.set_weights([np.full(w.shape, 0.1, "float32") for w in model.get_weights()])
    model.compile(getattr(lib.optimizers, name)(learning_rate=0.01, **kwargs), "mse")
    model.fit(X, Y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    return model


def _values(model):
    return [(v.name, np.asarray(v)) for v in model.optimizer.variables]


@pytest.mark.parametrize("which", sorted(OPTIMIZERS))
@pytest.mark.parametrize("src", ["keras", "kerax"])
def test_optimizer_state_round_trips_with_keras(keras, tmp_path, which, src):
    libs = {"keras": keras, "kerax": kerax}
    dst = "kerax" if src == "keras" else "keras"
    saved = _trained(libs[src], which)
    path = str(tmp_path / "m.keras")
    saved.save(path)
    loaded = libs[dst].models.load_model(path)
    got, want = _values(loaded), _values(saved)
    # Names are not compared: Keras itself names a loaded Sequential's slots 'a_kernel_...'
    # where the model it saved said 'seq_a_kernel_...'.
    assert len(got) == len(want)
    for (_, a), (_, b) in zip(got, want):
        np.testing.assert_array_equal(a, b)
