"""`jax.jit(model.init)` on subclassed models: the variables equal the eager `init`'s (it
used to raise `UnexpectedTracerError`: sub-layers met in the abstract pass of `call` kept
that pass's tracers)."""

import chex
import jax
import numpy as np

import kerax


class Scale(kerax.layers.Layer):
    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1],), initializer="random_normal")

    def call(self, x):
        return x * self.w


class Block(kerax.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = kerax.layers.Dense(3)
        self.bn = kerax.layers.BatchNormalization()
        self.drop = kerax.layers.Dropout(0.5, seed=1)

    def call(self, x, training=False):
        return self.drop(self.bn(self.dense(x), training=training), training=training)


class Net(kerax.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.block = Block()
        self.scale = Scale()
        self.head = kerax.layers.Dense(2)

    def call(self, x, training=False):
        return self.head(self.scale(self.block(x, training=training)))


def test_jitted_init_equals_eager_init_and_applies():
    x = np.random.default_rng(0).normal(size=(4, 5)).astype("float32")
    key = jax.random.PRNGKey(3)
    eager = Net().init(key, x)
    jitted = jax.jit(Net().init)(key, x)
    chex.assert_trees_all_close(jitted, eager)
    model = Net()
    variables = jax.jit(model.init)(key, x)
    y, _ = jax.jit(model.apply)(variables, x)
    y_eager, _ = model.apply(eager, x)
    np.testing.assert_allclose(y, y_eager, rtol=1e-6)
    assert y.shape == (4, 2)
