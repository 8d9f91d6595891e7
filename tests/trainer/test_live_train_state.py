"""The train state is the one source of truth during `fit` (DESIGN.md, "Keras' object model
is a view of the pytree"): storing an execution's result replaces one reference and writes
no layer, every layer reads its numbers through its link, and what a callback writes
between executions is trained on from the next batch, as in Keras 3. Shared layers, nested
models and layers taken out of a model read the same numbers as in Keras."""

import gc
import weakref

import jax
import keras
import numpy as np
import pytest

import kerax

R = np.random.default_rng(0)
X = R.normal(size=(8, 3)).astype("float32")
Y = R.normal(size=(8, 2)).astype("float32")
FIT = dict(batch_size=2, epochs=2, shuffle=False, verbose=0)


def _weights(model):
    return [np.asarray(w) for w in model.get_weights()]


def _assert_same(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-6)


def test_storing_an_execution_replaces_one_reference_and_layers_read_it_lazily():
    model = kerax.Sequential([kerax.Input((3,)), kerax.layers.Dense(4, name="a"),
                              kerax.layers.Dense(2, name="b")])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(X, Y, **FIT)
    ts = model._make_train_state()
    before = [dict(layer.__dict__) for layer in model.layers]
    model._store_train_state(ts._replace(params=jax.tree_util.tree_map(lambda a: a + 1,
                                                                       ts.params)))
    for layer, seen in zip(model.layers, before):  # no layer was written
        assert layer.__dict__.keys() == seen.keys()
        assert all(layer.__dict__[k] is v for k, v in seen.items())
    expected = [np.asarray(ts.params[n][w]) + 1 for n in "ab" for w in ("kernel", "bias")]
    _assert_same(_weights(model), expected)
    _assert_same([model.layers[1].kernel.numpy()], expected[2:3])
    _assert_same([model.variables["params"]["a"]["bias"]], expected[1:2])


def _writer(lib, how):
    class Write(lib.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch != 1:
                return
            if how == "set_weights":
                self.model.set_weights([np.full(w.shape, 0.5, w.dtype)
                                        for w in self.model.get_weights()])
            else:
                self.model.layers[-1].kernel.assign(np.zeros((4, 2), "float32"))

    return Write()


@pytest.mark.parametrize("how", ["set_weights", "assign"])
def test_a_weight_a_callback_writes_is_trained_on_from_the_next_batch_as_in_keras(how):
    start = None
    results = []
    for lib in (keras, kerax):
        model = lib.Sequential([lib.Input((3,)), lib.layers.Dense(4), lib.layers.Dense(2)])
        model.compile(optimizer=lib.optimizers.SGD(0.1), loss="mse")
        if start is None:
            start = _weights(model)
        model.set_weights(start)
        history = model.fit(X, Y, callbacks=[_writer(lib, how)], **FIT)
        results.append((history.history["loss"], _weights(model)))
    (kloss, kweights), (loss, weights) = results
    np.testing.assert_allclose(loss, kloss, rtol=1e-5)
    _assert_same(weights, kweights)


def _shared(lib):
    shared = lib.layers.Dense(4, name="shared")
    inner = lib.Sequential([lib.Input((3,)), lib.layers.Dense(3, name="pre")], name="inner")
    a = lib.Sequential([lib.Input((3,)), shared, lib.layers.Dense(2, name="head_a")])
    b = lib.Sequential([lib.Input((3,)), inner, shared, lib.layers.Dense(2, name="head_b")])
    for model in (a, b, inner):
        model.compile(optimizer=lib.optimizers.SGD(0.1), loss="mse")
    return shared, inner, a, b


def test_shared_layers_nested_models_and_a_layer_taken_out_read_the_last_fit_as_in_keras():
    seen = []
    start = None
    for lib in (keras, kerax):
        shared, inner, a, b = _shared(lib)
        if start is None:
            start = [_weights(m) for m in (a, b)]
        a.set_weights(start[0])
        b.set_weights(start[1])
        steps = []
        a.fit(X, Y, **FIT)
        steps.append(_weights(b) + _weights(shared))
        b.fit(X, Y, **FIT)
        steps.append(_weights(a) + _weights(inner))
        inner.fit(X, X, **FIT)  # the nested model trained alone
        steps.append(_weights(b))
        a.fit(X, Y, **FIT)
        steps.append(_weights(b) + [np.asarray(shared(X))])  # the layer used alone
        seen.append(steps)
    for ksteps, steps in zip(*seen):
        _assert_same(steps, ksteps)


def test_a_seed_generator_a_layer_owns_reads_the_state_fit_advanced_as_in_keras():
    states = []
    for lib in (keras, kerax):
        class Noise(lib.layers.Layer):
            def __init__(self):
                super().__init__()
                self.seed_generator = lib.random.SeedGenerator(7)

            def call(self, x, training=False):
                if training:
                    x = x + lib.random.uniform(lib.ops.shape(x), seed=self.seed_generator)
                return x

        noise = Noise()
        model = lib.Sequential([lib.Input((3,)), lib.layers.Dense(2), noise])
        model.compile(optimizer="sgd", loss="mse")
        model.fit(X, Y, **FIT)
        states.append(np.asarray(noise.seed_generator.state).tolist())
    assert states[1] == states[0]


def test_a_layer_popped_after_fit_keeps_its_weights_while_the_model_trains_on_as_in_keras():
    seen, start = [], None
    for lib in (keras, kerax):
        model = lib.Sequential([lib.Input((3,)), lib.layers.Dense(2), lib.layers.Dense(2)])
        model.compile(optimizer=lib.optimizers.SGD(0.1), loss="mse")
        if start is None:
            start = _weights(model)
        model.set_weights(start)
        model.fit(X, Y, **FIT)
        popped = model.pop()
        model.compile(optimizer=lib.optimizers.SGD(0.1), loss="mse")  # Keras needs it
        model.fit(X, Y, **FIT)
        seen.append(_weights(model) + _weights(popped) + [np.asarray(popped(X[:, :2]))])
    _assert_same(seen[1], seen[0])


def test_a_layer_used_alone_after_its_model_is_gone_frees_the_models_other_weights():
    model = kerax.Sequential([kerax.Input((3,)), kerax.layers.Dense(2),
                              kerax.layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(X, Y, **FIT)
    first, other = model.layers[0], weakref.ref(model.layers[1].kernel.value)
    kernel = first.kernel.numpy()
    del model
    gc.collect()
    np.testing.assert_allclose(np.asarray(first(X)), X @ kernel + first.bias.numpy(),
                               rtol=1e-5, atol=1e-6)
    gc.collect()
    assert other() is None
