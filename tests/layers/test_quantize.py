"""`model.quantize` / `layer.quantize` ("int8", "float8") against Keras 3: the quantized
weights (exactly), predictions, policies and configs, training, saving both ways, export,
the pure API, and the errors."""

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kerax
from kerax import quantizers

RNG = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _fresh_names(keras):
    """Tests compare variable paths: both libraries count names from 0."""
    kerax.utils.clear_session(free_memory=False)
    keras.utils.clear_session(free_memory=False)


# name -> (builder of the model for a library, input maker)
def _mlp(lib):
    return lib.Sequential([lib.Input((4,)), lib.layers.Dense(3, activation="relu"),
                           lib.layers.Dense(2)])


def _einsum(lib):
    return lib.Sequential([lib.Input((5, 4)),
                           lib.layers.EinsumDense("abc,cde->abde", (None, 2, 3),
                                                  bias_axes="de", activation="relu"),
                           lib.layers.EinsumDense("abcd,cde->abe", (None, 2), bias_axes="e")])


def _embedding(lib):
    return lib.Sequential([lib.Input((5,), dtype="int32"), lib.layers.Embedding(6, 4),
                           lib.layers.Dense(2)])


def _reversible(lib):
    return lib.Sequential([lib.Input((5,), dtype="int32"),
                           lib.layers.ReversibleEmbedding(6, 4, tie_weights=False)])


MODELS = {"mlp": (_mlp, lambda n: RNG.normal(size=(n, 4)).astype("float32")),
          "reversible": (_reversible, lambda n: RNG.integers(0, 6, (n, 5)).astype("int32")),
          "einsum": (_einsum, lambda n: RNG.normal(size=(n, 5, 4)).astype("float32")),
          "embedding": (_embedding, lambda n: RNG.integers(0, 6, (n, 5)).astype("int32"))}
CASES = [("mlp", "int8"), ("mlp", "float8"), ("einsum", "int8"), ("einsum", "float8"),
         ("embedding", "int8"), ("reversible", "int8")]


def _layout(model):
    return [(w.path, str(w.dtype), tuple(w.shape), bool(w.trainable)) for w in model.weights]


def _pair(keras, name, mode=None, **quantize_kwargs):
    """The same float model in kerax and Keras (same weights), quantized if `mode`."""
    build, _ = MODELS[name]
    ours, theirs = build(kerax), build(keras)
    weights = [RNG.normal(size=w.shape).astype("float32") for w in theirs.get_weights()]
    for model in (ours, theirs):
        model.set_weights(weights)
        if mode is not None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # layers that cannot be quantized
                model.quantize(mode, **quantize_kwargs)
    return ours, theirs


def _assert_same_weights(ours, theirs):
    assert _layout(ours) == _layout(theirs)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)


def _assert_same_predictions(ours, theirs, x):
    np.testing.assert_allclose(np.asarray(ours.predict(x, verbose=0)),
                               np.asarray(theirs.predict(x, verbose=0)), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name, mode", CASES)
def test_quantized_weights_policies_and_predictions_match_keras(keras, name, mode):
    ours, theirs = _pair(keras, name, mode)
    _assert_same_weights(ours, theirs)
    _assert_same_predictions(ours, theirs, MODELS[name][1](6))
    for a, b in zip(ours.layers, theirs.layers):
        assert a.dtype_policy.name == b.dtype_policy.name
        assert type(a.dtype_policy).__name__ == type(b.dtype_policy).__name__
        assert kerax.dtype_policies.serialize(a.dtype_policy) == \
            keras.dtype_policies.serialize(b.dtype_policy)
        assert _lists(a.get_config()["quantization_config"]) == _lists(
            b.get_config()["quantization_config"])


def _lists(config):
    """A Keras config as it reads back from JSON (tuples become lists)."""
    if isinstance(config, dict):
        return {k: _lists(v) for k, v in config.items()}
    if isinstance(config, (list, tuple)):
        return [_lists(v) for v in config]
    return config


@pytest.mark.parametrize("name", ["mlp", "einsum"])
def test_weight_only_config_and_filters_match_keras(keras, name):
    """A custom config (no input quantizer: weight-only int8) and a name filter."""
    first = {"mlp": "dense", "einsum": "einsum_dense"}[name]
    ours, theirs = _pair(keras, name)
    for model, lib in ((ours, kerax), (theirs, keras)):
        config = lib.quantizers.Int8QuantizationConfig(
            weight_quantizer=lib.quantizers.AbsMaxQuantizer(axis=0), activation_quantizer=None)
        model.quantize(config=config, filters=f"^{first}$")
    _assert_same_weights(ours, theirs)
    assert ours.layers[1].quantization_mode is None  # filtered out
    _assert_same_predictions(ours, theirs, MODELS[name][1](6))


@pytest.mark.parametrize("name, mode", CASES)
def test_inputs_quantizer_attribute_as_keras(keras, name, mode):
    """Keras' int8 Dense / EinsumDense expose `inputs_quantizer` (the customizing
    quantization guide reads it); other layers and modes have no such attribute."""
    ours, theirs = _pair(keras, name, mode)
    for mine, keras_layer in zip(ours.layers, theirs.layers):
        want = getattr(keras_layer, "inputs_quantizer", AttributeError)
        if want is AttributeError:
            with pytest.raises(AttributeError, match="has no attribute 'inputs_quantizer'"):
                mine.inputs_quantizer
        else:
            got = mine.inputs_quantizer
            assert type(got).__name__ == type(want).__name__
            assert got.get_config() == want.get_config()
            assert mine.inputs_quantizer is got  # one object, as Keras' attribute


@pytest.mark.parametrize("activation_quantizer", [None, "custom"])
def test_inputs_quantizer_is_the_configs(keras, activation_quantizer):
    ours, theirs = _pair(keras, "mlp")
    for model, lib in ((ours, kerax), (theirs, keras)):
        chosen = None if activation_quantizer is None else \
            lib.quantizers.AbsMaxQuantizer(axis=-1, value_range=(-90, 90))
        model.quantize(config=lib.quantizers.Int8QuantizationConfig(
            weight_quantizer=lib.quantizers.AbsMaxQuantizer(axis=0),
            activation_quantizer=chosen))
        if chosen is None:
            assert model.layers[0].inputs_quantizer is None
        else:
            assert model.layers[0].inputs_quantizer is chosen
    assert ours.layers[0].dtype_policy.name == theirs.layers[0].dtype_policy.name


def test_abs_max_quantize_matches_keras(keras):
    x = RNG.normal(size=(3, 5)).astype("float32")
    for axis, to_numpy in ((0, True), (-1, False), ((0, 1), True)):
        q, s = quantizers.abs_max_quantize(x, axis, to_numpy=to_numpy)
        kq, ks = keras.quantizers.abs_max_quantize(x, axis, to_numpy=to_numpy)
        np.testing.assert_array_equal(np.asarray(q), np.asarray(kq))
        np.testing.assert_array_equal(np.asarray(s), np.asarray(ks))
    scale, history = np.float32(2.0), np.arange(4, dtype="float32")
    np.testing.assert_array_equal(
        np.asarray(quantizers.compute_float8_amax_history(x, history)),
        np.asarray(keras.quantizers.compute_float8_amax_history(x, history)))
    np.testing.assert_array_equal(
        np.asarray(quantizers.compute_float8_scale(np.float32(3.0), scale, 448.0)),
        np.asarray(keras.quantizers.compute_float8_scale(np.float32(3.0), scale, 448.0)))
    np.testing.assert_array_equal(
        np.asarray(quantizers.quantize_and_dequantize(x, scale, "float8_e4m3fn", "float32")),
        np.asarray(keras.quantizers.quantize_and_dequantize(x, scale, "float8_e4m3fn",
                                                            "float32")))


def test_quantized_policies_match_keras(keras):
    for name in ("int8_from_float32", "int8_from_mixed_bfloat16", "float8_from_float32"):
        ours, theirs = kerax.dtype_policies.get(name), keras.dtype_policies.get(name)
        assert type(ours).__name__ == type(theirs).__name__
        assert (ours.name, ours.compute_dtype, ours.variable_dtype, ours.quantization_mode) \
            == (theirs.name, theirs.compute_dtype, theirs.variable_dtype,
                theirs.quantization_mode)
        assert ours.get_config() == theirs.get_config()
        assert kerax.dtype_policies.get(keras.dtype_policies.serialize(theirs)) == ours


@pytest.mark.parametrize("name", ["mlp", "einsum"])
def test_int8_fit_trains_the_float_weights_as_keras(keras, name):
    """The int8 kernels stay frozen; biases train with Keras' straight-through gradient."""
    ours, theirs = _pair(keras, name, "int8")
    x = MODELS[name][1](8)
    y = RNG.normal(size=theirs.predict(x, verbose=0).shape).astype("float32")
    histories = []
    for model, lib in ((ours, kerax), (theirs, keras)):
        model.compile(lib.optimizers.SGD(0.1), "mse")
        histories.append(model.fit(x, y, epochs=3, batch_size=4, shuffle=False,
                                   verbose=0).history["loss"])
    np.testing.assert_allclose(histories[0], histories[1], rtol=1e-5)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_float8_training_is_refused_and_inference_works(keras):
    ours, _ = _pair(keras, "mlp", "float8")
    ours.compile("sgd", "mse")
    x = MODELS["mlp"][1](4)
    with pytest.raises(NotImplementedError, match=r"Dense 'dense' is quantized to float8, "
                                                  r"which kerax runs for inference only"):
        ours.fit(x, np.zeros((4, 2), "float32"), verbose=0)
    assert ours.evaluate(x, np.zeros((4, 2), "float32"), verbose=0) >= 0


@pytest.mark.parametrize("name, mode", CASES)
@pytest.mark.parametrize("src", ["keras", "kerax"])
def test_saved_quantized_models_move_both_ways(keras, tmp_path, name, mode, src):
    ours, theirs = _pair(keras, name, mode)
    saved = {"keras": theirs, "kerax": ours}[src]
    path = str(tmp_path / "m.keras")
    saved.save(path)
    x = MODELS[name][1](5)
    expected = np.asarray(saved.predict(x, verbose=0))
    by_path = {w.path.split("/", 1)[1]: np.asarray(w) for w in saved.weights}
    layouts = []
    for lib in (kerax, keras):
        loaded = lib.models.load_model(path)
        layouts.append([(w.path, str(w.dtype)) for w in loaded.weights])
        assert sorted(layouts[-1]) == sorted(
            (p, str(v.dtype)) for p, v in by_path.items())  # built as Keras builds it
        for w in loaded.weights:
            np.testing.assert_array_equal(np.asarray(w), by_path[w.path])
        np.testing.assert_allclose(np.asarray(loaded.predict(x, verbose=0)), expected,
                                   rtol=1e-6, atol=1e-6)
    assert layouts[0] == layouts[1]  # same weight order as Keras' loaded model


@pytest.mark.parametrize("src", ["keras", "kerax"])
def test_weights_files_of_quantized_models_move_both_ways(keras, tmp_path, src):
    ours, theirs = _pair(keras, "mlp", "int8")
    saved = {"keras": theirs, "kerax": ours}[src]
    path = str(tmp_path / "m.weights.h5")
    saved.save_weights(path)
    for lib in (kerax, keras):
        target = _mlp(lib)
        target.quantize("int8")
        target.load_weights(path)
        for a, b in zip(target.get_weights(), saved.get_weights()):
            np.testing.assert_array_equal(a, b)


def test_summary_counts_match_keras(keras, capsys):
    ours, theirs = _pair(keras, "einsum", "int8")
    ours.summary()
    text = capsys.readouterr().out
    theirs.summary()
    reference = capsys.readouterr().out
    for line in ("Total params", "Trainable params", "Non-trainable params"):
        ours_line = next(l for l in text.splitlines() if l.strip().startswith(line))
        theirs_line = next(l for l in reference.splitlines() if l.strip().startswith(line))
        assert ours_line.strip() == theirs_line.strip()


def test_config_round_trip_keeps_the_quantized_layers(keras):
    ours, _ = _pair(keras, "mlp", "int8")
    clone = kerax.Sequential.from_config(ours.get_config())
    assert [l.dtype_policy.name for l in clone.layers] == ["int8_from_float32"] * 2
    assert [w[1:] for w in _layout(clone)] == [w[1:] for w in _layout(ours)]
    assert isinstance(clone.layers[0].quantization_config, quantizers.Int8QuantizationConfig)
    layer = kerax.layers.Dense.from_config(keras.layers.Dense(
        3, dtype="int8_from_float32").get_config())
    assert layer.dtype_policy.name == "int8_from_float32"


def test_pure_api_jit_and_vmap_with_int8_variables(keras):
    ours, theirs = _pair(keras, "mlp", "int8")
    variables = ours.variables
    assert variables["state"]["dense"]["kernel"].dtype == jnp.int8
    assert sorted(variables["params"]["dense"]) == ["bias"]
    x = MODELS["mlp"][1](6)
    expected = np.asarray(theirs.predict(x, verbose=0))
    y, _ = jax.jit(lambda v, x: ours.apply(v, x))(variables, x)
    np.testing.assert_allclose(np.asarray(y), expected, rtol=1e-6, atol=1e-6)
    rows = jax.vmap(lambda r: ours.apply(variables, r[None])[0][0])(x)
    np.testing.assert_allclose(np.asarray(rows), expected, rtol=1e-6, atol=1e-6)
    # A layer built with a quantized policy gets Keras' zeros / ones placeholders.
    layer = kerax.layers.Dense(3, dtype="int8_from_float32")
    v = layer.init(jax.random.PRNGKey(0), jnp.ones((1, 4)))
    assert {k: (a.dtype, a.shape) for k, a in v["state"].items()} == {
        "kernel": (jnp.int8, (4, 3)), "kernel_scale": (jnp.float32, (3,))}


def test_input_gradient_is_keras_straight_through(keras):
    """The gradient reaching the inputs is that of the dequantized kernel."""
    ours, theirs = _pair(keras, "mlp", "int8")
    layer = ours.layers[0]
    x = MODELS["mlp"][1](3)
    grad = jax.grad(lambda x: ours.layers[0].apply(layer.variables, x)[0].sum())(x)
    kernel = np.asarray(layer.kernel).astype("float32") / np.asarray(layer.kernel_scale)
    relu_on = np.asarray(layer(x)) > 0
    np.testing.assert_allclose(np.asarray(grad), relu_on.astype("float32") @ kernel.T,
                               rtol=1e-6)


def test_exported_artifact_carries_the_int8_weights(keras, tmp_path):
    build = lambda lib: lib.Sequential([lib.Input((64,)), lib.layers.Dense(128),  # noqa
                                        lib.layers.Dense(8)])
    model = build(kerax)
    x = RNG.normal(size=(5, 64)).astype("float32")
    model.export(tmp_path / "float", format="jax", verbose=False)
    model.quantize("int8")
    model.export(tmp_path / "int8", format="jax", verbose=False)
    size = lambda d: sum(f.stat().st_size for f in d.rglob("*") if f.is_file())  # noqa
    assert size(tmp_path / "int8") < 0.5 * size(tmp_path / "float")
    reloaded = kerax.export.load(tmp_path / "int8")
    np.testing.assert_allclose(np.asarray(reloaded.serve(x)),
                               np.asarray(model.predict(x, verbose=0)), rtol=1e-6, atol=1e-6)


# ------------------------------------------------------------------------- errors --
def test_unknown_mode_is_refused_as_in_keras(keras):
    ours, _ = _pair(keras, "mlp")
    with pytest.raises(ValueError, match=r"Invalid quantization mode\. Expected one of "
                                         r"\('int8', 'float8', 'int4', 'gptq', 'awq'\)\. "
                                         r"Received: mode=int7"):
        ours.quantize("int7")
    with pytest.raises(ValueError, match=r"Invalid quantization mode.*Received: mode=int7"):
        ours.layers[0].quantize("int7")
    with pytest.raises(ValueError, match=r"You must provide either `mode` or `config`"):
        ours.quantize()
    with pytest.raises(ValueError, match=r"Contradictory arguments: mode='float8' but "
                                         r"config.mode='int8'"):
        ours.quantize("float8", config=quantizers.Int8QuantizationConfig())
    with pytest.raises(ValueError, match=r"Unrecognized keyword arguments passed to "
                                         r"Sequential: \{'axis': 0\}"):
        ours.quantize("int8", axis=0)


def test_modes_kerax_does_not_implement_are_refused(keras):
    ours, _ = _pair(keras, "mlp")
    with pytest.raises(NotImplementedError, match=r"kerax does not implement quantization "
                                                  r"mode 'gptq'.*supported modes are "
                                                  r"\('int8', 'float8', 'int4'\)"):
        ours.quantize("gptq")
    with pytest.raises(NotImplementedError, match=r"kerax does not implement the "
                                                  r"'gptq/4/128' quantization mode"):
        kerax.layers.Dense(3, dtype="gptq/4/128_from_float32")
    with pytest.raises(NotImplementedError, match=r"kerax does not implement the "
                                                  r"'awq/4/128' quantization mode"):
        kerax.layers.Dense(3, dtype="awq/4/128_from_float32")


def test_quantizing_twice_is_refused(keras):
    ours, theirs = _pair(keras, "mlp", "int8")
    message = (r"Layer 'dense' is already quantized with dtype_policy='int8_from_float32'\. "
               r"Received: mode=int8")
    for model in (ours, theirs):
        with pytest.raises(ValueError, match=message):
            model.quantize("int8")
    with pytest.raises(ValueError, match=message.replace("mode=int8", "mode=float8")):
        ours.layers[0].quantize("float8")


def test_quantizing_an_unbuilt_model_or_layer_is_refused(keras):
    for lib in (kerax, keras):
        with pytest.raises(ValueError, match=r"Cannot quantize a layer that isn't yet built\. "
                                             r"Layer 'sequential\w*' \(of type 'Sequential'\) "
                                             r"is not built yet"):
            lib.Sequential([lib.layers.Dense(3)]).quantize("int8")
        with pytest.raises(ValueError, match=r"Cannot quantize a layer that isn't yet built\. "
                                             r"Layer 'dense\w*' \(of type 'Dense'\)"):
            lib.layers.Dense(3).quantize("int8")


def test_layers_that_cannot_be_quantized_are_skipped_with_a_warning(keras):
    ours, _ = _pair(keras, "embedding")
    with pytest.warns(UserWarning, match=r"Invalid quantization mode\. Expected one of "
                                         r"\('int8', 'int4'\) for Embedding\. Received: "
                                         r"quantization_mode=float8"):
        ours.quantize("float8")
    assert ours.layers[0].quantization_mode is None
    assert ours.layers[1].quantization_mode == "float8"

    class MyDense(kerax.layers.Dense):
        pass

    layer = MyDense(2)
    layer.build((None, 3))
    with pytest.raises(NotImplementedError, match=r"Layer MyDense does not have a `quantize` "
                                                  r"method implemented"):
        layer.quantize("int8")
    layer.quantize("int8", type_check=False)
    assert layer.quantization_mode == "int8"


def test_lora_and_quantization_are_not_combined():
    layer = kerax.layers.Dense(2, lora_rank=1)
    layer.build((None, 3))
    with pytest.raises(NotImplementedError, match=r"Dense 'dense': kerax does not quantize a "
                                                  r"layer with LoRA enabled"):
        layer.quantize("int8")
    layer = kerax.layers.Dense(2)
    layer.build((None, 3))
    layer.quantize("int8")
    with pytest.raises(NotImplementedError, match=r"Dense 'dense_1': kerax does not enable "
                                                  r"LoRA on a quantized layer"):
        layer.enable_lora(1)


def test_quantizer_objects_match_keras(keras):
    with pytest.raises(ValueError, match=r"Quantizer with output_dtype='int8' requires "
                                         r"value_range to be within the interval \[-128, 127\]"):
        quantizers.AbsMaxQuantizer(value_range=(-200, 127))
    ours, theirs = quantizers.AbsMaxQuantizer(axis=0), keras.quantizers.AbsMaxQuantizer(axis=0)
    assert ours.get_config() == theirs.get_config()
    config = keras.quantizers.serialize(keras.quantizers.Int8QuantizationConfig())
    restored = quantizers.deserialize(config)
    assert isinstance(restored, quantizers.Int8QuantizationConfig)
    assert _lists(restored.get_config()) == _lists(
        keras.quantizers.Int8QuantizationConfig().get_config())


@pytest.mark.parametrize("policy, mode", [("mixed_bfloat16", "int8"),
                                          ("mixed_bfloat16", "float8")])
def test_mixed_precision_quantized_models_match_keras(keras, policy, mode):
    x = RNG.normal(size=(5, 4)).astype("float32")
    ours, theirs = (lib.Sequential([
        lib.Input((4,)), lib.layers.Dense(3, dtype=policy),
        lib.layers.EinsumDense("ab,bc->ac", 2, bias_axes="c", dtype=policy)])
        for lib in (kerax, keras))
    weights = [RNG.normal(size=w.shape).astype("float32") for w in theirs.get_weights()]
    for model in (ours, theirs):
        model.set_weights(weights)
        model.quantize(mode)
    _assert_same_weights(ours, theirs)
    assert ours.layers[0].dtype_policy.name == f"{mode}_from_{policy}"
    np.testing.assert_array_equal(np.asarray(ours.predict(x, verbose=0), "float32"),
                                  np.asarray(theirs.predict(x, verbose=0), "float32"))


def test_layers_inside_user_layers_quantize_and_builtin_composites_warn():
    class Block(kerax.layers.Layer):
        def __init__(self):
            super().__init__()
            self.dense = kerax.layers.Dense(3)

        def call(self, x):
            return self.dense(x)

    model = kerax.Sequential([kerax.Input((4,)), Block()])
    float_out = np.asarray(model.predict(np.ones((2, 4), "float32"), verbose=0))
    model.quantize("int8")
    assert [str(w.dtype) for w in model.weights] == ["float32", "int8", "float32"]
    np.testing.assert_allclose(np.asarray(model.predict(np.ones((2, 4), "float32"),
                                                        verbose=0)), float_out, atol=0.05)
    inputs = kerax.Input((3, 4))
    model = kerax.Model(inputs, kerax.layers.MultiHeadAttention(2, 2)(inputs, inputs))
    with pytest.warns(UserWarning, match=r"kerax does not quantize the sub-layers of "
                                         r"MultiHeadAttention 'multi_head_attention'"):
        model.quantize("int8")
    assert {str(w.dtype) for w in model.weights} == {"float32"}


@pytest.mark.parametrize("tie_weights", [True, False])
def test_reversible_embedding_reverse_call_matches_keras(keras, tie_weights):
    ours, theirs = (lib.layers.ReversibleEmbedding(6, 4, tie_weights=tie_weights,
                                                   logit_soft_cap=2.0) for lib in (kerax, keras))
    for layer in (ours, theirs):
        layer.build((None, 3))
    weights = [RNG.normal(size=w.shape).astype("float32") for w in theirs.get_weights()]
    for layer in (ours, theirs):
        layer.set_weights(weights)
        layer.quantize("int8")
    _assert_same_weights(ours, theirs)
    hidden = RNG.normal(size=(2, 3, 4)).astype("float32")
    np.testing.assert_allclose(np.asarray(ours(hidden, reverse=True)),
                               np.asarray(theirs(hidden, reverse=True)), rtol=1e-6, atol=1e-6)


def test_setting_a_quantized_policy_quantizes_a_built_layer_as_keras(keras):
    ours, theirs = (lib.layers.Dense(3) for lib in (kerax, keras))
    for layer in (ours, theirs):
        layer.build((None, 4))
    weights = [RNG.normal(size=w.shape).astype("float32") for w in theirs.get_weights()]
    for layer in (ours, theirs):
        layer.set_weights(weights)
        layer.dtype_policy = "int8_from_float32"
    _assert_same_weights(ours, theirs)
    assert ours.dtype_policy.name == "int8_from_float32"


def test_a_quantized_policy_on_a_layer_that_does_not_quantize_is_refused():
    layer = kerax.layers.Conv1D(2, 2, dtype="int8_from_float32")
    with pytest.raises(NotImplementedError, match=r"Layer Conv1D 'conv1d' has the quantized "
                                                  r"dtype policy 'int8_from_float32', but kerax "
                                                  r"quantizes only Dense, EinsumDense"):
        layer(np.ones((1, 4, 3), "float32"))
