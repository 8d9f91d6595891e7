"""Random layers keep Keras' seed state (`kerax.layers.seed_state`), checked against Keras 3:
variable lists and paths, eager masks, `stateless_call` loops, `fit`'s counter, summary."""

import io
import contextlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kerax

X = np.linspace(-1.0, 1.0, 24, dtype="float32").reshape(2, 3, 4)
IMAGES = np.random.default_rng(0).uniform(0, 255, (2, 4, 4, 3)).astype("float32")

REGULARIZATION = {
    "Dropout": lambda L: L.Dropout(0.5, seed=1),
    "Dropout_noise_shape": lambda L: L.Dropout(0.5, noise_shape=(None, 1, 4), seed=2),
    "SpatialDropout1D": lambda L: L.SpatialDropout1D(0.5, seed=3),
    "GaussianNoise": lambda L: L.GaussianNoise(0.5, seed=4),
    "GaussianDropout": lambda L: L.GaussianDropout(0.3, seed=5),
    "AlphaDropout": lambda L: L.AlphaDropout(0.4, seed=6),
    "Dropout_rate_0": lambda L: L.Dropout(0.0, seed=1),
    "Dropout_rate_1": lambda L: L.Dropout(1.0, seed=1),
    "GaussianNoise_0": lambda L: L.GaussianNoise(0.0, seed=1),
}

AUGMENTATION = {
    "RandomFlip": (), "RandomRotation": (0.2,), "RandomTranslation": (0.2, 0.2),
    "RandomContrast": (0.2,), "RandomInvert": (), "Solarization": (),
    "RandomGaussianBlur": (), "RandomErasing": (), "RandomShear": (0.2,),
    "RandomColorJitter": (), "RandomHue": (0.2,), "RandomCrop": (2, 2),
}


def _describe(lib, layer):
    seed_value = lambda v: (np.asarray(v).tolist() if np.dtype(v.dtype) == np.uint32  # noqa: E731
                            else tuple(v.shape))
    return ([(v.path, str(np.dtype(v.dtype)), seed_value(v)) for v in layer.variables],
            [v.path for v in layer.non_trainable_variables], len(layer.weights),
            len(layer.get_weights()), layer.count_params())


def _regularization_row(make):
    def row(lib):
        layer = make(lib.layers)
        outs = [np.asarray(layer(X, training=True)) for _ in range(2)]
        return _describe(lib, layer), outs
    return row


@pytest.mark.parametrize("name", REGULARIZATION)
def test_random_layer_seed_state_and_eager_draws_match_keras(keras, name):
    row = _regularization_row(REGULARIZATION[name])
    kerax.utils.clear_session(free_memory=False)
    (mine, mine_outs) = row(kerax)
    keras.utils.clear_session(free_memory=False)
    (theirs, their_outs) = row(keras)
    assert mine == theirs
    for a, b in zip(mine_outs, their_outs):  # the same masks/noise: drawn from the seed state
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", AUGMENTATION)
def test_augmentation_seed_state_and_counter_match_keras(keras, name):
    def row(lib):
        layer = getattr(lib.layers, name)(*AUGMENTATION[name], seed=1)
        layer(IMAGES, training=True)
        return _describe(lib, layer)

    kerax.utils.clear_session(free_memory=False)
    mine = row(kerax)
    keras.utils.clear_session(free_memory=False)
    assert mine == row(keras)


def _model(lib):
    return lib.Sequential([lib.Input((4,)), lib.layers.Dense(3, name="d"),
                           lib.layers.Dropout(0.5, seed=7, name="drop")], name="m")


def _summary_totals(model):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        model.summary()
    return [line.strip() for line in out.getvalue().splitlines() if "params" in line]


def test_model_variable_lists_and_summary_match_keras(keras):
    def row(lib):
        model = _model(lib)
        return (_describe(lib, model), [v.path for v in model.trainable_variables],
                _summary_totals(model))

    kerax.utils.clear_session(free_memory=False)
    mine = row(kerax)
    keras.utils.clear_session(free_memory=False)
    assert mine == row(keras)


def _stateless_loop(lib, weights):
    """The JAX training-loop guide's pattern: thread `non_trainable_variables` through
    a jitted `stateless_call` in training mode."""
    model = _model(lib)
    model.set_weights(weights)
    tv = [v.value for v in model.trainable_variables]
    ntv = [v.value for v in model.non_trainable_variables]
    call = jax.jit(lambda tv, ntv, x: model.stateless_call(tv, ntv, x, training=True))
    outs = []
    for _ in range(3):
        y, ntv = call(tv, ntv, X[0])
        outs.append(np.asarray(y))
    return outs, [np.asarray(v).tolist() for v in ntv]


def test_stateless_call_loop_draws_keras_masks(keras):
    weights = [np.random.default_rng(0).random((4, 3)).astype("float32"),
               np.linspace(0.1, 0.3, 3, dtype="float32")]
    mine_outs, mine_ntv = _stateless_loop(kerax, weights)
    their_outs, their_ntv = _stateless_loop(keras, weights)
    assert mine_ntv == their_ntv == [[7, 3]]
    assert not np.array_equal(mine_outs[0], mine_outs[1])  # the mask advances
    for a, b in zip(mine_outs, their_outs):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_fit_advances_the_counter_as_keras(keras):
    def row(lib):
        model = _model(lib)
        model.compile("sgd", "mse")
        model.fit(np.ones((8, 4), "float32"), np.zeros((8, 3), "float32"), batch_size=4,
                  epochs=2, verbose=0)
        model.predict(np.ones((4, 4), "float32"), verbose=0)  # inference draws nothing
        return [np.asarray(v).tolist() for v in model.non_trainable_variables]

    assert row(kerax) == row(keras) == [[7, 4]]


def test_fit_draws_from_its_own_key_not_the_seed_state():
    """The compiled step's per-layer keys are unchanged by the seed state (fit numerics):
    two models with different seeds give the same fit from the same weights and seed."""
    def run(seed):
        kerax.utils.set_random_seed(0)
        model = kerax.Sequential([kerax.Input((4,)), kerax.layers.Dense(3, name="d"),
                                  kerax.layers.Dropout(0.5, seed=seed, name="drop")])
        model.set_weights([np.ones((4, 3), "float32"), np.zeros(3, "float32")])
        model.compile("sgd", "mse")
        model.fit(np.ones((8, 4), "float32"), np.zeros((8, 3), "float32"), batch_size=4,
                  epochs=1, verbose=0, shuffle=False)
        return model.get_weights()

    for a, b in zip(run(1), run(2)):
        np.testing.assert_array_equal(a, b)


def test_pure_apply_without_rng_draws_from_the_seed_state_under_jit():
    layer = kerax.layers.Dropout(0.5, seed=1)
    variables = layer.init(jax.random.PRNGKey(0), X)
    assert variables["state"]["seed_generator"].dtype == jnp.uint32
    step = jax.jit(lambda v, x: layer.apply(v, x, training=True))
    first, state = step(variables, X)
    second, state = step({**variables, "state": state}, X)
    assert state["seed_generator"].tolist() == [1, 2]
    assert not np.array_equal(first, second)
    expected = jnp.where(jax.random.bernoulli(jnp.array([1, 0], jnp.uint32), 0.5, X.shape),
                         X / 0.5, 0.0)
    np.testing.assert_array_equal(first, expected)
    # An explicit key is used as given; the counter still advances.
    keyed, state = layer.apply(variables, X, training=True, rng=jax.random.PRNGKey(3))
    assert state["seed_generator"].tolist() == [1, 1]
    np.testing.assert_array_equal(
        keyed, jnp.where(jax.random.bernoulli(jax.random.PRNGKey(3), 0.5, X.shape), X / 0.5, 0))


def test_no_key_and_no_seed_state_says_how_to_call():
    layer = kerax.layers.GaussianDropout(0.3, name="gd")
    with pytest.raises(ValueError, match=r"GaussianDropout 'gd' needs a random key in "
                                         r"training mode: `apply` received no `rng` and the "
                                         r"layer's state has no seed state 'seed_generator'"):
        layer.apply({}, X, training=True)


def test_seed_generator_attribute_is_the_state_variable():
    layer = kerax.layers.Dropout(0.5, seed=11)
    layer(X, training=True)
    state = layer.seed_generator.state
    assert layer.non_trainable_variables[0] is state
    assert np.asarray(state).tolist() == [11, 1]
    state.assign(np.array([11, 0], "uint32"))  # rewinding replays the first mask
    a = np.asarray(layer(X, training=True))
    state.assign(np.array([11, 0], "uint32"))
    np.testing.assert_array_equal(a, np.asarray(layer(X, training=True)))


ATTENTION = {
    "Attention": lambda L: L.Attention(dropout=0.5, seed=1),
    "AdditiveAttention": lambda L: L.AdditiveAttention(use_scale=False, dropout=0.4, seed=2),
    "Attention_no_dropout": lambda L: L.Attention(seed=1),
}


@pytest.mark.parametrize("name", ATTENTION)
def test_attention_dropout_seed_state_matches_keras(keras, name):
    q, v = X[:, :2], X[:, 1:]

    def row(lib):
        layer = ATTENTION[name](lib.layers)
        outs = [np.asarray(layer([q, v], training=True)) for _ in range(2)]
        return _describe(lib, layer), outs

    kerax.utils.clear_session(free_memory=False)
    mine, mine_outs = row(kerax)
    keras.utils.clear_session(free_memory=False)
    theirs, their_outs = row(keras)
    assert mine == theirs
    for a, b in zip(mine_outs, their_outs):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


MHA = {
    "MultiHeadAttention": lambda L: L.MultiHeadAttention(2, 2, dropout=0.5, seed=4),
    "MultiHeadAttention_gate": lambda L: L.MultiHeadAttention(2, 2, dropout=0.5, seed=4,
                                                              use_gate=True),
    "GroupQueryAttention": lambda L: getattr(
        L, "GroupQueryAttention", getattr(L, "GroupedQueryAttention", None))(
        2, 4, 2, dropout=0.5, seed=4),
    "MultiHeadAttention_no_dropout": lambda L: L.MultiHeadAttention(2, 2),
}


@pytest.mark.parametrize("name", MHA)
def test_multi_head_attention_dropout_seed_state_as_keras(keras, name):
    """The inner Dropout's seed state: between `value` and `attention_output` in Keras'
    `variables`, the one non-trainable variable, advanced once per training call."""
    x = X[:, :3]

    def row(lib):
        layer = MHA[name](lib.layers)
        layer(x, x)
        before = [np.asarray(v).tolist() for v in layer.non_trainable_variables]
        layer(x, x, training=True)
        after = [np.asarray(v).tolist() for v in layer.non_trainable_variables]
        return ([v.path.split("/")[-2:] for v in layer.variables], before, after,
                len(layer.weights), layer.count_params())

    kerax.utils.clear_session(free_memory=False)
    mine = row(kerax)
    keras.utils.clear_session(free_memory=False)
    theirs = row(keras)
    # kerax names the generator with the layer's prefix and a global count, as Keras'
    # name scope does; compare the last two path parts with the counter dropped.
    strip = lambda rows: [[p.rsplit("_", 1)[0] if p.startswith("seed_generator_") else p  # noqa
                           for p in parts] for parts in rows]
    assert strip(mine[0]) == strip(theirs[0])
    assert mine[1:] == theirs[1:]


def test_multi_head_attention_stateless_loop_draws_a_new_mask_each_step():
    layer = kerax.layers.MultiHeadAttention(2, 2, dropout=0.5, seed=4)
    x = X[:, :3]
    layer(x, x)
    trainable = [v.value for v in layer.trainable_variables]
    non_trainable = [v.value for v in layer.non_trainable_variables]
    outs = []
    for _ in range(2):
        y, non_trainable = layer.stateless_call(trainable, non_trainable, x, x, training=True)
        outs.append(np.asarray(y))
    assert not np.allclose(outs[0], outs[1])
    assert np.asarray(non_trainable[0]).tolist() == [4, 2]


RECURRENT = {
    "SimpleRNN": (lambda L: L.SimpleRNN(2, seed=1), X),
    "LSTM": (lambda L: L.LSTM(2, seed=1), X),
    "GRU": (lambda L: L.GRU(2, seed=1), X),
    "Bidirectional": (lambda L: L.Bidirectional(L.LSTM(2, seed=1)), X),
    "ConvLSTM1D": (lambda L: L.ConvLSTM1D(2, 3, seed=1), np.ones((2, 3, 5, 4), "float32")),
}


@pytest.mark.parametrize("name", RECURRENT)
def test_recurrent_cells_own_a_seed_state_as_keras(keras, name):
    """Keras' cells always own a SeedGenerator (its state is listed after the cell's
    weights); the counter of a training call with dropout is kerax's own (rnn.py)."""
    make, x = RECURRENT[name]

    def row(lib):
        layer = make(lib.layers)
        layer(x)
        return _describe(lib, layer)

    kerax.utils.clear_session(free_memory=False)
    mine = row(kerax)
    keras.utils.clear_session(free_memory=False)
    assert mine == row(keras)


def test_recurrent_dropout_draws_from_the_cell_seed_state():
    layer = kerax.layers.LSTM(3, dropout=0.5, recurrent_dropout=0.5, seed=4)
    first = np.asarray(layer(X, training=True))
    second = np.asarray(layer(X, training=True))
    assert not np.array_equal(first, second)
    assert np.asarray(layer.cell.seed_generator.state).tolist() == [4, 4]
    layer.cell.seed_generator.state.assign(np.array([4, 0], "uint32"))
    np.testing.assert_array_equal(first, np.asarray(layer(X, training=True)))


def test_layer_stateless_call_matches_keras(keras):
    """`Layer.stateless_call` (not only Model's): the same outputs and advanced seed state
    as Keras for a Dropout, and a Dense's outputs from the given lists."""
    x = np.ones((2, 6), "float32")
    results = []
    for lib in (keras, kerax):
        drop = lib.layers.Dropout(0.5, seed=3)
        drop(x)
        ntv = [np.asarray(v.value) for v in drop.non_trainable_variables]
        outs = []
        for _ in range(2):
            y, ntv = drop.stateless_call([], ntv, x, training=True)
            outs.append(np.asarray(y))
        dense = lib.layers.Dense(2, kernel_initializer="ones")
        dense(x)
        y, _ = dense.stateless_call([np.full((6, 2), 2.0, "float32"), np.ones(2, "float32")],
                                    [], x)
        results.append((outs, [np.asarray(v).tolist() for v in ntv], np.asarray(y)))
    (k_outs, k_ntv, k_y), (x_outs, x_ntv, x_y) = results
    assert x_ntv == k_ntv
    for a, b in zip(x_outs, k_outs):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    np.testing.assert_allclose(x_y, k_y)
    with pytest.raises(ValueError, match=r"Dense '.*': `trainable_variables` has 1 arrays, "
                                         r"but the layer has 2"):
        built = kerax.layers.Dense(2)
        built(x)
        built.stateless_call([np.ones((6, 2))], [], x)
