"""`fit(shuffle=...)` on arrays draws its epoch orders from the global NumPy RNG exactly as
Keras 3 does (`np.random.permutation`, plus one drawn pass in the first `fit` after
`compile`), so a program seeded with `keras.utils.set_random_seed` trains on the same
batches and leaves `np.random` in the same state."""

import numpy as np
import pytest

import kerax

X = np.random.default_rng(0).normal(size=(10, 3)).astype("float32")
Y = np.random.default_rng(1).normal(size=(10, 2)).astype("float32")


def _model(lib, weights=None):
    model = lib.Sequential([lib.Input((3,)), lib.layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    if weights is not None:
        model.set_weights(weights)
    return model


@pytest.mark.parametrize("shuffle", [True, "batch"])
def test_epoch_order_and_numpy_rng_follow_keras(keras, shuffle):
    weights = _model(keras).get_weights()
    results = []
    for lib in (keras, kerax):
        model = _model(lib, weights)
        np.random.seed(7)
        first = model.fit(X, Y, batch_size=4, epochs=2, shuffle=shuffle, verbose=0)
        second = model.fit(X, Y, batch_size=4, epochs=2, shuffle=shuffle, verbose=0)
        results.append((first.history["loss"] + second.history["loss"],
                        model.get_weights(), np.random.random()))
    (k_loss, k_w, k_next), (x_loss, x_w, x_next) = results
    np.testing.assert_allclose(x_loss, k_loss, rtol=1e-5)
    for a, b in zip(k_w, x_w):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert x_next == k_next  # the NumPy RNG advanced by the same draws


def test_unshuffled_fit_leaves_the_numpy_rng_alone():
    model = _model(kerax)
    np.random.seed(3)
    expected = np.random.random()
    np.random.seed(3)
    model.fit(X, Y, batch_size=4, shuffle=False, verbose=0)
    assert np.random.random() == expected
