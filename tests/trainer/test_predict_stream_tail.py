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


def test_several_outputs_of_a_generator_in_executions_with_empty_steps(keras, rng):
    x = rng.normal(size=(13, 4)).astype("float32")  # batches of 4, 4, 4, 1
    outs = {}
    for lib in (kerax, keras):
        lib.utils.set_random_seed(0)
        inputs = lib.Input((4,))
        model = lib.Model(inputs, {"y": lib.layers.Dense(3)(inputs),
                                   "z": lib.layers.Dense(1)(inputs)})
        if lib is keras:
            model.set_weights(outs["kerax"][1])
        model.compile(steps_per_execution=3)  # executions of 3 steps, then 1 (+ 2 empty)
        outs[lib.__name__] = (model.predict(_batches(x, 4)(), verbose=0),
                              model.get_weights())
    ours, theirs = outs["kerax"][0], outs["keras"][0]
    assert sorted(ours) == ["y", "z"] and ours["y"].shape == (13, 3)
    for name in ("y", "z"):
        np.testing.assert_allclose(ours[name], theirs[name], rtol=1e-5, atol=1e-6)
