"""LoRA (`lora_rank`, `lora_alpha`, `enable_lora`) against Keras 3: weights, outputs,
training, saving both ways, and its errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kerax
from kerax.saving import optimizer_vars

RNG = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _fresh_names(keras):
    """Tests compare variable paths (`dense/kernel`): both libraries count names from 0."""
    kerax.utils.clear_session(free_memory=False)
    keras.utils.clear_session(free_memory=False)

# name -> (constructor kwargs, input shape, integer input?)
CASES = {
    "Dense": (dict(units=3), (2, 4), False),
    "EinsumDense": (dict(equation="abc,cde->abde", output_shape=(None, 2, 3), bias_axes="de"),
                    (2, 5, 4), False),
    "Embedding": (dict(input_dim=6, output_dim=3), (2, 5), True),
    "Conv2D": (dict(filters=3, kernel_size=2), (2, 4, 4, 2), False),
    "Conv1D": (dict(filters=3, kernel_size=2, use_bias=False), (2, 5, 2), False),
}


def _input(case):
    _, shape, integer = CASES[case]
    if integer:
        return RNG.integers(0, 6, shape).astype("int32")
    return RNG.normal(size=shape).astype("float32")


def _build(lib, case, how, **extra):
    kwargs, shape, _ = CASES[case]
    if how == "constructor":
        extra = {"lora_rank": 2, "lora_alpha": 4, **extra}
    layer = getattr(lib.layers, case)(**kwargs, **extra)
    layer.build((None,) + shape[1:])
    if how == "enable_lora":
        layer.enable_lora(2, lora_alpha=4)
    return layer


def _random_weights(layer, seed=1):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=w.shape).astype("float32") for w in layer.get_weights()]


def _layout(weights):
    return [(w.path, bool(w.trainable), tuple(w.shape), str(w.dtype)) for w in weights]


@pytest.mark.parametrize("how", ["constructor", "enable_lora"])
@pytest.mark.parametrize("case", list(CASES))
def test_weights_and_config_match_keras(keras, case, how):
    ours, theirs = _build(kerax, case, how), _build(keras, case, how)
    assert _layout(ours.weights) == _layout(theirs.weights)
    assert _layout(ours.trainable_weights) == _layout(theirs.trainable_weights)
    assert _layout(ours.non_trainable_weights) == _layout(theirs.non_trainable_weights)
    assert ours.lora_enabled and theirs.lora_enabled
    # Keras 3.15 resets `lora_alpha` to the rank when Dense/Embedding enable LoRA in `build`.
    assert (ours.lora_rank, ours.lora_alpha) == (theirs.lora_rank, theirs.lora_alpha)
    lora_keys = lambda c: {k: v for k, v in c.items() if "lora" in k}  # noqa: E731
    assert lora_keys(ours.get_config()) == lora_keys(theirs.get_config())


@pytest.mark.parametrize("case", list(CASES))
def test_outputs_and_merged_kernel_match_keras(keras, case):
    ours, theirs = _build(kerax, case, "enable_lora"), _build(keras, case, "enable_lora")
    weights = _random_weights(theirs)
    ours.set_weights(weights)
    theirs.set_weights(weights)
    x = _input(case)
    np.testing.assert_allclose(np.asarray(ours(x)), np.asarray(theirs(x)), rtol=1e-5,
                               atol=1e-5)
    attr = "embeddings" if case == "Embedding" else "kernel"
    np.testing.assert_allclose(np.asarray(getattr(ours, attr)),
                               np.asarray(getattr(theirs, attr)), rtol=1e-6, atol=1e-6)


def test_enable_lora_initializers():
    layer = kerax.layers.Dense(3)
    layer.build((None, 4))
    layer.enable_lora(2, a_initializer="ones", b_initializer="ones")
    np.testing.assert_array_equal(np.asarray(layer.lora_kernel_a), np.ones((4, 2)))
    np.testing.assert_allclose(np.asarray(layer.kernel),
                               np.asarray(layer.weights[0]) + 2.0, rtol=1e-6)  # alpha = rank


def test_fresh_adapter_changes_nothing():
    layer = kerax.layers.Dense(3)
    x = _input("Dense")
    before = np.asarray(layer(x))
    layer.enable_lora(2)
    assert float(jnp.abs(layer.lora_kernel_b.value).sum()) == 0.0  # zeros: a no-op at first
    np.testing.assert_array_equal(np.asarray(layer(x)), before)


def test_pure_init_apply_and_trainable_mask():
    layer = kerax.layers.EinsumDense("ab,bc->ac", output_shape=3, bias_axes="c", lora_rank=2)
    x = _input("Dense")
    variables = layer.init(jax.random.PRNGKey(0), x)
    assert sorted(variables["params"]) == ["bias", "kernel", "lora_kernel_a", "lora_kernel_b"]
    assert variables["params"]["lora_kernel_a"].dtype == jnp.float32
    assert layer.trainable_mask(variables["params"]) == {
        "bias": True, "kernel": False, "lora_kernel_a": True, "lora_kernel_b": True}
    params = dict(variables["params"], lora_kernel_b=jnp.ones((2, 3)))
    expected = x @ (params["kernel"] + params["lora_kernel_a"] @ params["lora_kernel_b"]) + \
        params["bias"]
    fn = jax.jit(lambda p: layer.apply({"params": p, "state": {}}, x)[0])
    np.testing.assert_allclose(np.asarray(fn(params)), expected, rtol=1e-5, atol=1e-6)


def _model(lib, seed_weights=None):
    model = lib.Sequential([
        lib.Input((5,), dtype="int32"),
        lib.layers.Embedding(6, 4, lora_rank=2),
        lib.layers.Flatten(),
        lib.layers.Dense(3, lora_rank=2, kernel_regularizer="l2", activation="tanh"),
        lib.layers.Dense(2),
    ])
    return model


X = RNG.integers(0, 6, (8, 5)).astype("int32")
Y = RNG.normal(size=(8, 2)).astype("float32")


def _pair(keras):
    ours, theirs = _model(kerax), _model(keras)
    weights = _random_weights(theirs, seed=3)
    ours.set_weights(weights)
    theirs.set_weights(weights)
    return ours, theirs


def test_fit_matches_keras(keras):
    ours, theirs = _pair(keras)
    for m, lib in ((ours, kerax), (theirs, keras)):
        m.compile(optimizer=lib.optimizers.SGD(0.1), loss="mse")
    h_ours = ours.fit(X, Y, epochs=3, batch_size=4, shuffle=False, verbose=0).history
    h_theirs = theirs.fit(X, Y, epochs=3, batch_size=4, shuffle=False, verbose=0).history
    np.testing.assert_allclose(h_ours["loss"], h_theirs["loss"], rtol=1e-5)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(ours.layers[0].get_weights()[0],
                                  _random_weights(theirs, seed=3)[0])  # frozen table


def test_summary_param_counts_match_keras(keras, capsys):
    ours, theirs = _pair(keras)
    count = lambda ws: sum(int(np.prod(w.shape)) for w in ws)  # noqa: E731
    trainable = 12 + 8 + 3 + 40 + 6 + 8  # embedding a, b; dense bias, a, b; dense_1
    assert count(ours.trainable_weights) == count(theirs.trainable_weights) == trainable
    assert count(ours.non_trainable_weights) == count(theirs.non_trainable_weights) == 24 + 60
    ours.summary()
    text = capsys.readouterr().out
    assert "Trainable params: 77" in text and "Non-trainable params: 84" in text


def _check_loaded(model, reference_predictions, merged):
    """After loading a Keras file: kernels merged, factors zero, same predictions."""
    emb, dense = model.layers[0], model.layers[2]
    np.testing.assert_allclose(np.asarray(emb.get_weights()[0]), merged[0], rtol=1e-6)
    np.testing.assert_allclose(np.asarray(dense.get_weights()[0]), merged[1], rtol=1e-6)
    for layer in (emb, dense):
        for w in layer.weights:
            if "lora" in w.path:
                assert not np.asarray(w).any(), w.path
    np.testing.assert_allclose(np.asarray(model.predict(X, verbose=0)), reference_predictions,
                               rtol=1e-5, atol=1e-6)


def _merged(model):
    return [np.asarray(model.layers[0].embeddings), np.asarray(model.layers[2].kernel)]


@pytest.mark.parametrize("src", ["keras", "kerax"])
@pytest.mark.parametrize("fmt", ["keras", "weights.h5"])
def test_saved_files_move_both_ways(keras, tmp_path, src, fmt):
    ours, theirs = _pair(keras)
    saved = {"keras": theirs, "kerax": ours}[src]
    expected = np.asarray(saved.predict(X, verbose=0))
    merged = _merged(saved)
    path = str(tmp_path / f"m.{fmt}")
    (saved.save if fmt == "keras" else saved.save_weights)(path)
    for lib in (kerax, keras):
        if fmt == "keras":
            loaded = lib.models.load_model(path)
            assert loaded.layers[2].get_config()["lora_rank"] == 2
        else:
            loaded = _model(lib)
            loaded.load_weights(path)
        _check_loaded(loaded, expected, merged)


def test_keras_style_errors():
    layer = kerax.layers.Dense(3)
    with pytest.raises(ValueError, match=r"Dense 'dense\w*': Cannot enable lora on a layer "
                                         r"that isn't yet built\. Call it on an input"):
        layer.enable_lora(2)
    layer.build((None, 4))
    layer.enable_lora(2)
    with pytest.raises(ValueError, match=r"lora is already enabled\. This can only be done "
                                         r"once per layer \(it has rank 2\)"):
        layer.enable_lora(2)
    constrained = kerax.layers.Embedding(4, 2, embeddings_constraint="non_neg")
    constrained.build((None, 3))
    with pytest.raises(ValueError, match=r"Lora is incompatible with embeddings constraints\. "
                                         r".*remove the `embeddings_constraint` argument"):
        constrained.enable_lora(2)
    with pytest.raises(ValueError, match=r"Lora is incompatible with kernel constraints"):
        kerax.layers.Dense(2, lora_rank=2, kernel_constraint="non_neg").build((None, 3))
    fresh = kerax.layers.Dense(2)
    fresh.build((None, 3))
    with pytest.raises(ValueError, match=r"LoRA's `rank` must be a positive integer\. "
                                         r"Received: rank=0"):
        fresh.enable_lora(0)


def test_reversible_embedding_reverse_uses_merged_table(keras):
    ours, theirs = (lib.layers.ReversibleEmbedding(6, 3, lora_rank=2) for lib in (kerax, keras))
    for layer in (ours, theirs):
        layer.build((None, 5))
    weights = _random_weights(theirs)
    ours.set_weights(weights)
    theirs.set_weights(weights)
    h = RNG.normal(size=(2, 3)).astype("float32")
    np.testing.assert_allclose(np.asarray(ours(h, reverse=True)),
                               np.asarray(theirs(h, reverse=True)), rtol=1e-5, atol=1e-6)


def test_time_distributed_keeps_lora(keras):
    ours, theirs = (lib.layers.TimeDistributed(lib.layers.Dense(3, lora_rank=2))
                    for lib in (kerax, keras))
    for layer in (ours, theirs):
        layer.build((None, 2, 4))
    weights = _random_weights(theirs)
    ours.set_weights(weights)
    theirs.set_weights(weights)
    x = RNG.normal(size=(2, 2, 4)).astype("float32")
    np.testing.assert_allclose(np.asarray(ours(x)), np.asarray(theirs(x)), rtol=1e-5, atol=1e-6)


def test_enable_lora_on_a_trained_model_then_fit_matches_keras(keras):
    """Keras' fine-tuning workflow: train, `enable_lora`, re-compile, train the adapters."""
    x = RNG.normal(size=(8, 4)).astype("float32")
    models = []
    for lib in (kerax, keras):
        models.append(lib.Sequential([lib.Input((4,)), lib.layers.Dense(3, activation="relu"),
                                      lib.layers.Dense(2)]))
    weights = _random_weights(models[1], seed=5)
    histories = []
    for model, lib in zip(models, (kerax, keras)):
        model.set_weights(weights)
        model.compile(lib.optimizers.Adam(0.01), "mse")
        model.fit(x, Y, epochs=1, batch_size=4, shuffle=False, verbose=0)
        model.layers[0].enable_lora(2, lora_alpha=4)
        model.layers[1].enable_lora(1)
    adapters = _random_weights(models[1], seed=6)
    for model, lib in zip(models, (kerax, keras)):
        model.set_weights(adapters)
        model.compile(lib.optimizers.Adam(0.01), "mse")
        histories.append(model.fit(x, Y, epochs=2, batch_size=4, shuffle=False,
                                   verbose=0).history["loss"])
    np.testing.assert_allclose(histories[0], histories[1], rtol=1e-5)
    for a, b in zip(models[0].get_weights(), models[1].get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert len(models[0].optimizer.variables) == len(models[1].optimizer.variables)
    np.testing.assert_array_equal(models[0].layers[0].get_weights()[0],
                                  adapters[0])  # the base kernel stayed frozen


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "bfloat16"])
def test_dtype_policies_match_keras(keras, policy):
    ours, theirs = (lib.layers.Dense(3, dtype=policy) for lib in (kerax, keras))
    for layer in (ours, theirs):
        layer.build((None, 4))
        layer.enable_lora(2)
    theirs.set_weights([w.astype("float32") for w in _random_weights(theirs)])
    ours.set_weights(theirs.get_weights())
    assert [str(w.dtype) for w in ours.weights] == [str(w.dtype) for w in theirs.weights]
    x = RNG.normal(size=(2, 4)).astype("float32")
    y_ours, y_theirs = ours(x), theirs(x)
    assert str(y_ours.dtype) == str(y_theirs.dtype) == "bfloat16"
    assert str(ours.kernel.dtype) == str(theirs.kernel.dtype) == "bfloat16"
    np.testing.assert_array_equal(np.asarray(y_ours, "float32"),
                                  np.asarray(y_theirs, "float32"))


@pytest.mark.parametrize("case", ["Conv2D", "EinsumDense", "Conv1D"])
def test_kerax_weights_file_gives_keras_the_merged_kernel(keras, tmp_path, case):
    _, shape, _ = CASES[case]
    models = [lib.Sequential([lib.Input(shape[1:]), _build(lib, case, "constructor")])
              for lib in (kerax, keras)]
    models[0].set_weights(_random_weights(models[0]))
    path = str(tmp_path / "m.weights.h5")
    models[0].save_weights(path)
    models[1].load_weights(path)
    np.testing.assert_allclose(np.asarray(models[1].layers[0].kernel),
                               np.asarray(models[0].layers[0].kernel), rtol=1e-6, atol=1e-6)
    x = _input(case)
    np.testing.assert_allclose(np.asarray(models[1](x)), np.asarray(models[0](x)), rtol=1e-5,
                               atol=1e-5)


def test_pretrained_weights_load_into_a_lora_model(keras, tmp_path):
    """A file saved without LoRA loads into the same model with `lora_rank` (as Keras)."""
    def make(lib, **lora):
        return lib.Sequential([lib.Input((4,)), lib.layers.Dense(3, **lora),
                               lib.layers.Dense(2)])

    plain = make(kerax)
    plain.set_weights(_random_weights(plain, seed=7))
    path = str(tmp_path / "plain.weights.h5")
    plain.save_weights(path)
    x = RNG.normal(size=(2, 4)).astype("float32")
    for lib in (kerax, keras):
        tuned = make(lib, lora_rank=2)
        tuned.load_weights(path)
        np.testing.assert_array_equal(np.asarray(tuned.layers[0].weights[0]),
                                      plain.get_weights()[0])
        assert not np.asarray(tuned.layers[0].lora_kernel_a).any()
        np.testing.assert_allclose(np.asarray(tuned(x)), np.asarray(plain(x)), rtol=1e-6)


@pytest.mark.parametrize("src", ["keras", "kerax"])
def test_optimizer_state_of_a_lora_model_moves_both_ways(keras, tmp_path, src):
    lib = {"keras": keras, "kerax": kerax}[src]
    model = lib.Sequential([lib.Input((4,)), lib.layers.Dense(3, lora_rank=2),
                            lib.layers.Dense(2)])
    model.compile(lib.optimizers.Adam(0.01), "mse")
    model.fit(RNG.normal(size=(8, 4)).astype("float32"), Y, epochs=1, batch_size=4, verbose=0)
    path = str(tmp_path / "m.keras")
    model.save(path)
    other = (keras if src == "kerax" else kerax).models.load_model(path)
    in_kerax, in_keras = (model, other) if src == "kerax" else (other, model)
    ours = optimizer_vars.keras_variables(in_kerax)
    theirs = [np.asarray(v) for v in in_keras.optimizer.variables]
    assert len(ours) == len(theirs) == 2 + 2 * 5  # bias, a, b, dense_1 kernel and bias
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-6)
