"""Validation on a generator, as in Keras 3: `fit` keeps one validation adapter, and each
validation replays the batches peeked at the first one, then reads on."""

import numpy as np
import pytest

import kerax

R = np.random.default_rng(0)
X = R.standard_normal((16, 4)).astype("float32")
Y = R.standard_normal((16, 1)).astype("float32")


def _run(lib, validation_steps, batches):
    pulled = []

    def gen():
        for i in range(batches):
            pulled.append(i)
            yield X[4 * i:4 * i + 4], Y[4 * i:4 * i + 4]

    model = lib.Sequential([lib.Input((4,)), lib.layers.Dense(1, kernel_initializer="ones")])
    model.compile("sgd", "mse")
    history = model.fit(X[:8], Y[:8], batch_size=4, epochs=3, verbose=0, shuffle=False,
                        validation_data=gen(), validation_steps=validation_steps).history
    return {k: np.round(v, 4).tolist() for k, v in history.items()}, pulled


@pytest.mark.filterwarnings("ignore:Your input ran out of data")
@pytest.mark.parametrize("validation_steps,batches", [(None, 3), (2, 4), (3, 4)])
def test_generator_validation_matches_keras(keras, validation_steps, batches):
    mine = _run(kerax, validation_steps, batches)
    assert mine == _run(keras, validation_steps, batches)
    assert len(mine[0]["val_loss"]) == 3
