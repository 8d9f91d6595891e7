"""`predict` on a stream of unknown length (a generator): the empty steps that fill its
last execution are not computed (as `fit` skips them), and the outputs, state and
progress are those of Keras 3 on the same data."""

import jax
import numpy as np

import kerax


def _batches(x, size):
    def gen():
        for i in range(0, len(x), size):
            yield (x[i:i + size],)
    return gen


def test_a_generators_last_execution_computes_only_its_real_steps(keras, rng):
    x = rng.normal(size=(37, 4)).astype("float32")  # 5 batches of 8: the last of 5 rows
    steps = []

    class Count(kerax.layers.Layer):
        def call(self, inputs):
            jax.debug.callback(lambda: steps.append(1))
            return inputs

    model = kerax.Sequential([kerax.Input((4,)), Count(), kerax.layers.Dense(3)])
    model.compile(steps_per_execution=4)  # executions of 4 steps, then 1 (+ 3 empty)
    theirs = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    theirs.set_weights(model.get_weights())
    out = model.predict(_batches(x, 8)(), verbose=0)
    jax.effects_barrier()
    assert len(steps) == 5  # (a loop over every step of the executions computes 8)
    assert out.shape == (37, 3)
    np.testing.assert_allclose(out, theirs.predict(_batches(x, 8)(), verbose=0),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out, model.predict(x, batch_size=8, verbose=0),
                               rtol=1e-6, atol=1e-6)


def test_state_a_layer_assigns_counts_only_real_steps(keras, rng):
    x = rng.normal(size=(21, 4)).astype("float32")  # 3 batches of 8, 8, 5
    counts = []
    for lib in (kerax, keras):
        class Counter(lib.layers.Layer):
            def build(self, shape):
                self.count = self.add_weight(shape=(), initializer="zeros",
                                             trainable=False, name="count")

            def call(self, inputs):
                self.count.assign(self.count + 1.0)
                return inputs

        counter = Counter()
        model = lib.Sequential([lib.Input((4,)), counter, lib.layers.Dense(2)])
        model.compile(steps_per_execution=2)
        model.predict(_batches(x, 8)(), verbose=0)
        counts.append(float(np.asarray(counter.count)))
    assert counts[0] == counts[1] == 3.0
