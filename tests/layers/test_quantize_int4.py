"""`quantize("int4")` / `Int4QuantizationConfig` against Keras 3: the packed weights,
scales, zero points and `g_idx` (exactly, in Keras' order), policies and configs,
predictions, the input gradient, saving both ways, layers built from a quantized policy,
the quantizer helpers, and the errors."""

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kerax
from kerax import quantizers

RNG = np.random.default_rng(4)


@pytest.fixture(autouse=True)
def _fresh_names(keras):
    """Tests compare variable paths: both libraries count names from 0."""
    kerax.utils.clear_session(free_memory=False)
    keras.utils.clear_session(free_memory=False)


def _mlp(lib):
    return lib.Sequential([lib.Input((12,)), lib.layers.Dense(7, activation="relu"),
                           lib.layers.Dense(3)])


def _einsum(lib):
    return lib.Sequential([lib.Input((5, 12)),
                           lib.layers.EinsumDense("abc,cde->abde", (None, 2, 3),
                                                  bias_axes="de", activation="relu"),
                           lib.layers.EinsumDense("abcd,cde->abe", (None, 5), bias_axes="e")])


def _embedding(lib):
    return lib.Sequential([lib.Input((5,), dtype="int32"), lib.layers.Embedding(6, 7),
                           lib.layers.Dense(2)])


def _reversible(lib):
    return lib.Sequential([lib.Input((5,), dtype="int32"),
                           lib.layers.ReversibleEmbedding(6, 7, tie_weights=False)])


def _ids(n):
    return RNG.integers(0, 6, (n, 5)).astype("int32")


MODELS = {"mlp": (_mlp, lambda n: RNG.normal(size=(n, 12)).astype("float32")),
          "einsum": (_einsum, lambda n: RNG.normal(size=(n, 5, 12)).astype("float32")),
          "embedding": (_embedding, _ids), "reversible": (_reversible, _ids)}
# config kwargs: None is `quantize("int4")` (Keras' default: groups of 128); a block size
# smaller than the contracted axis gives several groups and a padded last one.
CONFIGS = {"default": None, "per_channel": {"block_size": None}, "grouped": {"block_size": 5}}


_SLOW = pytest.mark.slow  # the default suite keeps a representative subset of the cases


def _config(lib, kwargs):
    return None if kwargs is None else lib.quantizers.Int4QuantizationConfig(**kwargs)


def _pair(keras, name, config_kwargs):
    """The same float model in kerax and Keras (same weights), int4-quantized."""
    build, _ = MODELS[name]
    ours, theirs = build(kerax), build(keras)
    weights = [RNG.normal(size=w.shape).astype("float32") for w in theirs.get_weights()]
    for lib, model in ((kerax, ours), (keras, theirs)):
        model.set_weights(weights)
        config = _config(lib, config_kwargs)
        model.quantize(None if config else "int4", config=config)
    return ours, theirs


def _layout(model):
    return [(w.path, str(w.dtype), tuple(w.shape), bool(w.trainable)) for w in model.weights]


def _assert_same_weights(ours, theirs):
    assert _layout(ours) == _layout(theirs)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name, config", [
    pytest.param(n, c, marks=() if n == "mlp" or c == "grouped" else _SLOW)
    for n in MODELS for c in CONFIGS])
def test_int4_weights_policies_and_predictions_match_keras(keras, name, config):
    ours, theirs = _pair(keras, name, CONFIGS[config])
    _assert_same_weights(ours, theirs)
    x = MODELS[name][1](4)
    np.testing.assert_allclose(np.asarray(ours.predict(x, verbose=0)),
                               np.asarray(theirs.predict(x, verbose=0)), rtol=1e-6, atol=1e-6)
    for a, b in zip(ours.layers, theirs.layers):
        assert a.dtype_policy.name == b.dtype_policy.name
        assert kerax.dtype_policies.serialize(a.dtype_policy) == \
            keras.dtype_policies.serialize(b.dtype_policy)
        assert a.get_config()["quantization_config"] == b.get_config()["quantization_config"]
    first = ours.layers[0]
    weight = first.embeddings if "embedding" in first.name else first.kernel
    their_weight = theirs.layers[0].embeddings if "embedding" in first.name \
        else theirs.layers[0].kernel
    np.testing.assert_array_equal(np.asarray(weight), np.asarray(their_weight))  # unpacked


@pytest.mark.parametrize("config", list(CONFIGS))
def test_reversible_embedding_reverse_call_matches_keras(keras, config):
    for tie_weights in (True, False):
        kerax.utils.clear_session(free_memory=False)
        keras.utils.clear_session(free_memory=False)
        ours, theirs = (lib.layers.ReversibleEmbedding(6, 7, tie_weights=tie_weights)
                        for lib in (kerax, keras))
        for layer in (ours, theirs):
            layer.build((None, 5))
        weights = [RNG.normal(size=w.shape).astype("float32") for w in theirs.get_weights()]
        for lib, layer in ((kerax, ours), (keras, theirs)):
            layer.set_weights(weights)
            config_obj = _config(lib, CONFIGS[config])
            layer.quantize(None if config_obj else "int4", config=config_obj)
        _assert_same_weights(ours, theirs)
        hidden = RNG.normal(size=(2, 3, 7)).astype("float32")
        np.testing.assert_allclose(np.asarray(ours(hidden, reverse=True)),
                                   np.asarray(theirs(hidden, reverse=True)), rtol=1e-6,
                                   atol=1e-6)


@pytest.mark.parametrize("name", ["mlp", "einsum"])
def test_per_channel_with_an_activation_quantizer_matches_keras(keras, name):
    build, make_x = MODELS[name]
    ours, theirs = build(kerax), build(keras)
    weights = [RNG.normal(size=w.shape).astype("float32") for w in theirs.get_weights()]
    for lib, model in ((kerax, ours), (keras, theirs)):
        model.set_weights(weights)
        model.quantize(config=lib.quantizers.Int4QuantizationConfig(
            activation_quantizer=lib.quantizers.AbsMaxQuantizer(), block_size=-1))
    _assert_same_weights(ours, theirs)
    assert type(ours.layers[0].inputs_quantizer).__name__ == "AbsMaxQuantizer"
    x = make_x(3)
    np.testing.assert_allclose(np.asarray(ours(x)), np.asarray(theirs(x)), rtol=1e-6,
                               atol=1e-6)


def test_guide_weight_only_config_per_channel_matches_keras(keras):
    """The customizing-quantization guide's int4 cell with `block_size=None` (its text
    predates Keras 3.15's sub-channel default, which refuses a custom weight quantizer)."""
    ours, theirs = _mlp(kerax), _mlp(keras)
    weights = [RNG.normal(size=w.shape).astype("float32") for w in theirs.get_weights()]
    for lib, model in ((kerax, ours), (keras, theirs)):
        model.set_weights(weights)
        model.quantize(config=lib.quantizers.Int4QuantizationConfig(
            weight_quantizer=lib.quantizers.AbsMaxQuantizer(value_range=(-8, 7),
                                                            output_dtype="int8", axis=0),
            activation_quantizer=None, block_size=None))
    _assert_same_weights(ours, theirs)
    assert str(ours.layers[0].kernel.dtype) == str(theirs.layers[0].kernel.dtype) == "int8"
    assert ours.layers[0].inputs_quantizer is None and theirs.layers[0].inputs_quantizer is None
    x = MODELS["mlp"][1](3)
    np.testing.assert_allclose(np.asarray(ours(x)), np.asarray(theirs(x)), rtol=1e-6,
                               atol=1e-6)


@pytest.mark.parametrize("config", ["per_channel", "grouped"])
def test_mixed_precision_int4_models_match_keras(keras, config):
    x = RNG.normal(size=(3, 5, 12)).astype("float32")
    ours, theirs = (lib.Sequential([
        lib.Input((5, 12)), lib.layers.Dense(6, dtype="mixed_bfloat16"),
        lib.layers.EinsumDense("abc,cd->abd", (None, 4), bias_axes="d", dtype="mixed_bfloat16")])
        for lib in (kerax, keras))
    weights = [RNG.normal(size=w.shape).astype("float32") for w in theirs.get_weights()]
    for lib, model in ((kerax, ours), (keras, theirs)):
        model.set_weights(weights)
        model.quantize(config=_config(lib, CONFIGS[config]))
    _assert_same_weights(ours, theirs)
    assert ours.layers[0].dtype_policy.name.endswith("_from_mixed_bfloat16")
    np.testing.assert_array_equal(np.asarray(ours.predict(x, verbose=0), "float32"),
                                  np.asarray(theirs.predict(x, verbose=0), "float32"))


@pytest.mark.parametrize("config", ["per_channel", "grouped"])
def test_input_gradient_is_keras_custom_gradient(keras, config):
    ours, theirs = _pair(keras, "mlp", CONFIGS[config])
    x = MODELS["mlp"][1](3)
    layer = theirs.layers[0]
    trainable = [v.value for v in layer.trainable_variables]
    frozen = [v.value for v in layer.non_trainable_variables]

    def keras_loss(inputs):
        out, _ = layer.stateless_call(trainable, frozen, inputs)
        return jnp.sum(out * out)

    variables = ours.layers[0].variables

    def kerax_loss(inputs):
        out, _ = ours.layers[0].apply(variables, inputs)
        return jnp.sum(out * out)

    np.testing.assert_allclose(np.asarray(jax.grad(kerax_loss)(x)),
                               np.asarray(jax.grad(keras_loss)(x)), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name, config", [
    ("mlp", "default"), pytest.param("mlp", "per_channel", marks=_SLOW),
    pytest.param("einsum", "grouped", marks=_SLOW), ("reversible", "grouped"),
    ("embedding", "per_channel")])
@pytest.mark.parametrize("src", ["keras", "kerax"])
def test_saved_int4_models_move_both_ways(keras, tmp_path, name, config, src):
    ours, theirs = _pair(keras, name, CONFIGS[config])
    saved = {"keras": theirs, "kerax": ours}[src]
    saved.save(str(tmp_path / "m.keras"))
    saved.save_weights(str(tmp_path / "m.weights.h5"))
    x = MODELS[name][1](3)
    expected = np.asarray(saved.predict(x, verbose=0))
    by_path = {w.path.split("/", 1)[1]: np.asarray(w) for w in saved.weights}
    layouts = []
    for lib in (kerax, keras):
        loaded = lib.models.load_model(str(tmp_path / "m.keras"))
        layouts.append([(w.path, str(w.dtype)) for w in loaded.weights])
        assert sorted(layouts[-1]) == sorted((p, str(v.dtype)) for p, v in by_path.items())
        for w in loaded.weights:
            np.testing.assert_array_equal(np.asarray(w), by_path[w.path])
        np.testing.assert_allclose(np.asarray(loaded.predict(x, verbose=0)), expected,
                                   rtol=1e-6, atol=1e-6)
        target = MODELS[name][0](lib)
        config_obj = _config(lib, CONFIGS[config])
        target.quantize(None if config_obj else "int4", config=config_obj)
        target.load_weights(str(tmp_path / "m.weights.h5"))
        for a, b in zip(target.get_weights(), saved.get_weights()):
            np.testing.assert_array_equal(a, b)
    assert layouts[0] == layouts[1]


def test_config_round_trip_and_layers_built_from_int4_policies(keras):
    ours, _ = _pair(keras, "mlp", CONFIGS["grouped"])
    clone = kerax.Sequential.from_config(ours.get_config())
    assert [l.dtype_policy.name for l in clone.layers] == ["int4/5_from_float32"] * 2
    assert [w[1:] for w in _layout(clone)] == [w[1:] for w in _layout(ours)]
    assert clone.layers[0].quantization_config.block_size == 5
    for dtype in ("int4_from_float32", "int4/-1_from_float32", "int4/2_from_float32"):
        layers = [lib.layers.Dense(3, dtype=dtype) for lib in (keras, kerax)]
        layers.append(kerax.layers.Dense.from_config(layers[0].get_config()))
        for layer in layers:
            layer.build((None, 5))
        reference = [(w.name, str(w.dtype), tuple(w.shape)) for w in layers[0].weights]
        for layer in layers[1:]:
            assert layer.dtype_policy.name == dtype
            assert type(layer.dtype_policy).__name__ == type(layers[0].dtype_policy).__name__
            assert [(w.name, str(w.dtype), tuple(w.shape)) for w in layer.weights] == reference
            for a, b in zip(layer.get_weights(), layers[0].get_weights()):  # zeros, g_idx
                np.testing.assert_array_equal(a, b)


def test_int4_model_trains_its_float_weights_only(keras):
    ours, theirs = _pair(keras, "mlp", CONFIGS["grouped"])
    assert [w.path for w in ours.trainable_weights] == [w.path for w in theirs.trainable_weights]
    frozen = [np.asarray(w) for w in ours.non_trainable_weights]
    ours.compile(optimizer="sgd", loss="mse")
    ours.fit(MODELS["mlp"][1](8), np.ones((8, 3), "float32"), epochs=1, verbose=0)
    for before, after in zip(frozen, ours.non_trainable_weights):
        np.testing.assert_array_equal(before, np.asarray(after))


def test_int4_helpers_match_keras(keras):
    values = RNG.integers(-8, 8, (5, 3, 4)).astype("int8")
    for axis in (0, 1, -1):
        ours, theirs = quantizers.pack_int4(values, axis=axis), \
            keras.quantizers.pack_int4(values, axis=axis)
        np.testing.assert_array_equal(np.asarray(ours[0]), np.asarray(theirs[0]))
        assert ours[1:] == tuple(theirs[1:])
        np.testing.assert_array_equal(
            np.asarray(quantizers.unpack_int4(ours[0], ours[2], axis=axis)), values)
    kernel = RNG.normal(size=(11, 4)).astype("float32")
    ours = quantizers.abs_max_quantize_grouped_with_zero_point(kernel, block_size=4)
    theirs = keras.quantizers.abs_max_quantize_grouped_with_zero_point(
        kernel, block_size=4, to_numpy=True)
    for a, b in zip(ours, theirs):
        assert np.asarray(a).dtype == np.asarray(b).dtype
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_int4_config_and_policy_round_trip_as_keras(keras):
    for kwargs in ({}, {"block_size": None},
                   {"block_size": -1, "weight_quantizer": "w", "activation_quantizer": "a"}):
        configs = []
        for lib in (keras, kerax):
            args = dict(kwargs)
            if "weight_quantizer" in args:
                args["weight_quantizer"] = lib.quantizers.AbsMaxQuantizer(
                    axis=0, value_range=(-8, 7))
                args["activation_quantizer"] = lib.quantizers.AbsMaxQuantizer()
            configs.append(lib.quantizers.serialize(lib.quantizers.Int4QuantizationConfig(**args)))
        assert configs[0] == configs[1]
        restored = quantizers.deserialize(configs[0])
        assert quantizers.serialize(restored) == configs[0]
    legacy = quantizers.Int4QuantizationConfig.from_config(
        {"weight_quantizer": None, "activation_quantizer": None})
    assert legacy.block_size is None  # configs saved before block_size: per-channel
    for name in ("int4/64_from_mixed_bfloat16", "int4_from_float32"):
        ours, theirs = kerax.dtype_policies.get(name), keras.dtype_policies.get(name)
        assert type(ours).__name__ == type(theirs).__name__
        assert kerax.dtype_policies.serialize(ours) == keras.dtype_policies.serialize(theirs)
        assert kerax.dtype_policies.deserialize(
            keras.dtype_policies.serialize(theirs)) == ours
        assert (ours.compute_dtype, ours.variable_dtype) == (theirs.compute_dtype,
                                                             theirs.variable_dtype)


def test_int4_errors_are_keras(keras):
    for lib in (keras, kerax):
        with pytest.raises(ValueError, match=r"Int4 sub-channel quantization \(block_size > 0\) "
                                             r"does not support custom quantizers.*Received: "
                                             r"block_size=128"):
            lib.quantizers.Int4QuantizationConfig(activation_quantizer=None,
                                                  weight_quantizer=lib.quantizers.AbsMaxQuantizer(
                                                      axis=0, value_range=(-8, 7)))
        with pytest.raises(ValueError, match=r"requires a weight_quantizer with "
                                             r"value_range=\(-8, 7\)\. Received: "
                                             r"value_range=\(-127, 127\)"):
            lib.quantizers.Int4QuantizationConfig(
                weight_quantizer=lib.quantizers.AbsMaxQuantizer(axis=0), block_size=None)
        with pytest.raises(ValueError, match=r"block_size must be None, -1, or a positive "
                                             r"integer\. Received: block_size=0"):
            lib.quantizers.Int4QuantizationConfig(block_size=0)
        with pytest.raises(ValueError, match=r"Invalid block_size in mode\. Supported values "
                                             r"are -1 \(per-channel\) or a positive integer"):
            lib.dtype_policies.Int4DTypePolicy("int4/-2", "float32")
        with pytest.raises(ValueError, match=r"<block_size> must be an integer"):
            lib.dtype_policies.Int4DTypePolicy("int4/x", "float32")
        with pytest.raises(TypeError, match=r"Expected int8 tensor for packing, got float32"):
            lib.quantizers.pack_int4(np.ones((2, 2), "float32"))
    ours, _ = _pair(keras, "mlp", CONFIGS["grouped"])
    with pytest.raises(ValueError, match=r"Layer 'dense' is already quantized with "
                                         r"dtype_policy='int4/5_from_float32'\. Received: "
                                         r"mode=int4"):
        ours.layers[0].quantize("int4")
    conv = kerax.Sequential([kerax.Input((4, 3)), kerax.layers.Conv1D(2, 2)])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        conv.quantize("int4")
    assert conv.layers[0].quantization_mode is None
    assert any("does not have a `quantize` method" in str(w.message) for w in caught)


def test_summary_counts_and_the_pure_api_with_int4_variables(keras, capsys):
    ours, theirs = _pair(keras, "einsum", CONFIGS["grouped"])
    lines = []
    for model in (ours, theirs):
        model.summary()
        text = capsys.readouterr().out
        lines.append([l.strip() for l in text.splitlines()
                      if l.strip().startswith(("Total params", "Trainable params",
                                               "Non-trainable params"))])
    assert lines[0] == lines[1] and len(lines[0]) == 3
    x = MODELS["einsum"][1](3)
    variables = ours.variables
    assert variables["state"]["einsum_dense"]["kernel"].dtype == jnp.int8
    jitted = jax.jit(lambda v, x: ours.apply(v, x)[0])(variables, x)
    mapped = jax.vmap(lambda row: ours.apply(variables, row[None])[0][0])(x)
    np.testing.assert_allclose(np.asarray(jitted), np.asarray(theirs(x)), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(np.asarray(mapped), np.asarray(theirs(x)), rtol=1e-6, atol=1e-6)
