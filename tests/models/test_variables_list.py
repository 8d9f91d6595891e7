"""`layer.variables` / `model.variables` is Keras 3's flat list of variables (same length,
order, paths, names, shapes, trainable flags and values as Keras 3 for the same model),
and it still reads as kerax's `{"params": ..., "state": ...}` tree for the pure API."""

import copy
import pickle
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kerax

X = np.random.default_rng(0).standard_normal((4, 3)).astype("float32")
Y = np.random.default_rng(1).standard_normal((4, 1)).astype("float32")
SEQ = np.random.default_rng(2).standard_normal((2, 5, 3)).astype("float32")


def _dense(k):
    layer = k.layers.Dense(2, name="d")
    layer(X)
    return layer


def _unbuilt_dense(k):
    return k.layers.Dense(2, name="d")


def _batchnorm(k):
    layer = k.layers.BatchNormalization(name="bn")
    layer(X, training=True)
    return layer


def _dropout(k):
    layer = k.layers.Dropout(0.5, seed=3, name="drop")
    layer(X)
    return layer


def _lstm(k):
    layer = k.layers.LSTM(2, dropout=0.1, name="lstm")
    layer(SEQ)
    return layer


def _functional(k):
    inputs = k.Input((3,), name="x")
    h = k.layers.Dense(4, name="h")(inputs)
    h = k.layers.BatchNormalization(name="bn")(h)
    h = k.layers.Dropout(0.3, seed=1, name="drop")(h)
    return k.Model(inputs, k.layers.Dense(1, name="o")(h), name="func")


def _sequential(k):
    return k.Sequential([k.Input((3,)), k.layers.Dense(4, name="s1"),
                         k.layers.Dropout(0.2, seed=1, name="sd"),
                         k.layers.Dense(1, name="s2")], name="seq")


def _unbuilt_sequential(k):
    return k.Sequential([k.layers.Dense(4, name="u1")], name="useq")


def _subclassed(k):
    class Block(k.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.inner = k.layers.Dense(3, name="inner")
            self.norm = k.layers.BatchNormalization(name="ibn")

        def call(self, x, training=False):
            return self.norm(self.inner(x), training=training)

    class Net(k.Model):
        def __init__(self):
            super().__init__(name="net")
            self.block = Block(name="block")
            self.drop = k.layers.Dropout(0.5, seed=2, name="ndrop")
            self.out = k.layers.Dense(1, name="out")

        def call(self, x, training=False):
            return self.out(self.drop(self.block(x, training=training), training=training))

    model = Net()
    model(X)
    return model


def _nested_block(k):
    return _subclassed(k).block  # a sub-layer lists its own variables only


def _compiled_after_fit(k):
    """Keras' `model.variables` after `fit`: the layers' variables only, neither the
    optimizer's nor the metrics'."""
    model = k.Sequential([k.Input((3,)), k.layers.Dense(4, activation="tanh", name="f1"),
                          k.layers.BatchNormalization(name="fbn"),
                          k.layers.Dense(1, name="f2")], name="fitted")
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    return model


BUILDERS = [_dense, _unbuilt_dense, _batchnorm, _dropout, _lstm, _functional, _sequential,
            _unbuilt_sequential, _subclassed, _nested_block, _compiled_after_fit]


def _describe(v):
    # A SeedGenerator's path carries a process-wide counter ("seed_generator_3"), which
    # depends on how many generators each library made before this test.
    path = re.sub(r"seed_generator_\d+/", "seed_generator/", v.path)
    return (path, v.name, tuple(v.shape), str(np.dtype(v.dtype)), bool(v.trainable))


def _is_seed(v):
    return v.name == "seed_generator_state"


@pytest.mark.parametrize("build", BUILDERS, ids=[b.__name__[1:] for b in BUILDERS])
def test_variables_is_keras_list(keras, build):
    theirs, ours = build(keras), build(kerax)
    if ours.weights:
        ours.set_weights(theirs.get_weights())
    if build is _compiled_after_fit:
        for model in (theirs, ours):
            model.fit(X, Y, batch_size=2, epochs=2, shuffle=False, verbose=0)
    assert isinstance(theirs.variables, list) and isinstance(ours.variables, list)
    assert [_describe(v) for v in ours.variables] == [_describe(v) for v in theirs.variables]
    for a, b in zip(ours.variables, theirs.variables):
        if not _is_seed(a):
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-4, atol=1e-5)
    if build in (_dropout, _functional, _sequential):  # seeded: same initial seed state
        assert [np.asarray(v).tolist() for v in ours.variables if _is_seed(v)] == \
            [np.asarray(v).tolist() for v in theirs.variables if _is_seed(v)]


def test_optimizer_and_metric_variables_are_keras_lists(keras):
    def run(k):
        model = _compiled_after_fit(k)
        model.fit(X, Y, batch_size=2, epochs=1, shuffle=False, verbose=0)
        metric = k.metrics.MeanAbsoluteError()
        metric.update_state(Y, Y + 1)
        lists = (model.optimizer.variables, metric.variables, model.metrics[0].variables)
        assert all(isinstance(v, list) for v in lists)
        # "adam_9/iteration": the optimizer's name carries a process-wide counter.
        return [[(re.sub(r"^adam_\d+/", "adam/", v.path), v.name, tuple(v.shape)) for v in vs]
                for vs in lists]

    assert run(kerax) == run(keras)


def _keras_idioms(k):
    """What Keras programs do with `model.variables`."""
    model = _sequential(k)
    variables = model.variables
    first = variables[0] is model.layers[0].kernel
    by_path = {v.path: tuple(v.shape) for v in model.variables}
    for v in model.variables:
        if v.trainable:
            v.assign(np.full(v.shape, 0.5, "float32"))
    head = variables[:2]
    return (len(variables), first, by_path, type(head) is list, len(head),
            [np.unique(w).tolist() for w in model.get_weights()],
            np.asarray(model.predict(X, verbose=0)).tolist())


def test_keras_idioms_match(keras):
    ours, theirs = _keras_idioms(kerax), _keras_idioms(keras)
    assert re.sub(r"seed_generator_\d+", "sg", str(ours)) == \
        re.sub(r"seed_generator_\d+", "sg", str(theirs))


def test_variables_still_reads_as_the_pure_tree():
    model = _functional(kerax)
    v = model.variables
    tree = model.init(jax.random.PRNGKey(0), X)
    assert sorted(v.keys()) == ["params", "state"] and "params" in v
    assert set(v["params"]) == {"h", "bn", "o"} and set(v["state"]) == {"bn", "drop"}
    assert dict(v).keys() == tree.keys() and {**v}["state"] is v["state"]
    assert jax.tree_util.tree_structure(dict(v)) == jax.tree_util.tree_structure(tree)
    # Flattens to the tree, with the dict's key paths; transforms give plain dicts back.
    assert jax.tree_util.tree_leaves(v) == jax.tree_util.tree_leaves(dict(v))
    assert ([p for p, _ in jax.tree_util.tree_flatten_with_path(v)[0]]
            == [p for p, _ in jax.tree_util.tree_flatten_with_path(dict(v))[0]])
    doubled = jax.tree.map(lambda a: 2 * a, v)
    assert type(doubled) is dict
    assert jax.tree_util.tree_structure(doubled) == jax.tree_util.tree_structure(tree)
    expected = model.predict(X, verbose=0)
    np.testing.assert_allclose(model.apply(v, X)[0], expected, rtol=1e-6)
    np.testing.assert_allclose(jax.jit(model.apply)(v, X)[0], expected, rtol=1e-6)
    dense = _dense(kerax)  # no integer seed state: `grad` takes all of its variables
    grads = jax.grad(lambda t: jnp.sum(dense.apply(t, X)[0]))(dense.variables)
    assert type(grads) is dict and grads["params"]["kernel"].shape == (3, 2)
    out, state = model.apply({**v, "state": v["state"]}, X, training=True,
                             rng=jax.random.PRNGKey(1))
    assert set(state) == {"bn", "drop"}


def test_variables_setter_takes_a_tree_or_another_models_variables():
    source, target = _sequential(kerax), _sequential(kerax)
    target.variables = source.variables
    for a, b in zip(target.get_weights(), source.get_weights()):
        np.testing.assert_array_equal(a, b)
    target.variables = jax.tree.map(jnp.zeros_like, source.variables)
    assert all(not np.any(w) for w in target.get_weights())
    # A pickle or deep copy is a snapshot of the tree (a plain dict), as before.
    snapshot, pickled = copy.deepcopy(source.variables), pickle.dumps(source.variables)
    assert type(snapshot) is dict and type(pickle.loads(pickled)) is dict
    source.layers[0].kernel.assign(np.ones((3, 4), "float32"))
    target.variables = pickle.loads(pickled)
    assert not np.any(target.layers[0].kernel.numpy() == 1.0)
    target.variables = snapshot
    np.testing.assert_array_equal(target.get_weights()[0], snapshot["params"]["s1"]["kernel"])


def test_unbuilt_variables_is_empty_and_its_tree_says_build_first():
    layer = kerax.layers.Dense(2, name="lazy")
    assert layer.variables == [] and not layer.variables and "params" not in layer.variables
    assert jax.tree.map(lambda a: a, layer.variables) is None
    with pytest.raises(ValueError, match=r"Layer 'lazy' is not built yet.*Call it on an input"):
        layer.variables["params"]
    layer(X)
    assert [v.name for v in layer.variables] == ["kernel", "bias"]
    assert set(layer.variables["params"]) == {"kernel", "bias"}
