"""Sequential, functional and subclassed copies of a model compile to the same train step:
the same primitives in the same numbers, so neither adds per-step work (the bench's
'kerax functional fit' / 'kerax subclassed fit' rows measure the time)."""

import collections

import jax
import numpy as np

import kerax
from kerax.trainer import steps as steps_lib


def _layers():
    return [kerax.layers.Dense(8, activation="relu"), kerax.layers.Dropout(0.1),
            kerax.layers.Dense(3)]


class _Stack(kerax.Model):
    def __init__(self, layers):
        super().__init__()
        self.stack = layers

    def call(self, x, training=False):
        for layer in self.stack:
            x = layer(x, training=training)
        return x


def _models():
    kerax.utils.set_random_seed(0)
    seq = kerax.Sequential([kerax.Input((4,))] + _layers())
    inputs = kerax.Input((4,))
    x = inputs
    for layer in _layers():
        x = layer(x)
    return {"sequential": seq, "functional": kerax.Model(inputs, x),
            "subclassed": _Stack(_layers())}


def _step_primitives(model, x, y):
    model.compile(optimizer="adam",
                  loss=kerax.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    fns = steps_lib.StepFunctions(model, model._trainable_mask())
    batch = (x[:4], y[:4], None, np.ones(4, bool))
    jaxpr = jax.make_jaxpr(fns.train_step)(model._make_train_state(), batch)
    counts = collections.Counter(eqn.primitive.name for eqn in jaxpr.jaxpr.eqns)
    return counts


def test_sequential_functional_and_subclassed_compile_to_the_same_step():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 4)).astype("float32")
    y = rng.integers(0, 3, 8).astype("int32")
    counts = {name: _step_primitives(m, x, y) for name, m in _models().items()}
    assert counts["functional"] == counts["sequential"], counts
    assert counts["subclassed"] == counts["sequential"], counts
