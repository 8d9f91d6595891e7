"""Keras arguments kerax does not implement are refused by name, never silently ignored;
their neutral values (what Keras' own configs carry) keep working."""

import numpy as np
import pytest

import kerax
from kerax import layers

QUANTIZED = {"module": "keras.quantizers", "class_name": "Int8QuantizationConfig",
             "config": {"weight_quantizer": None}, "registered_name": None}


@pytest.mark.parametrize("name, make", [
    ("Dense", lambda q: layers.Dense(3, quantization_config=q)),
    ("EinsumDense", lambda q: layers.EinsumDense("ab,bc->ac", 3, quantization_config=q)),
    ("Embedding", lambda q: layers.Embedding(4, 2, quantization_config=q)),
    ("ReversibleEmbedding", lambda q: layers.ReversibleEmbedding(4, 2, quantization_config=q)),
])
def test_quantization_config_is_kept(keras, name, make):
    # The layers quantize (tests/layers/test_quantize.py); their configs carry the config.
    config = make(QUANTIZED).get_config()["quantization_config"]
    args = {"Dense": dict(units=3), "EinsumDense": dict(equation="ab,bc->ac", output_shape=3),
            "Embedding": dict(input_dim=4, output_dim=2),
            "ReversibleEmbedding": dict(input_dim=4, output_dim=2)}[name]
    cls = getattr(keras.layers, name)
    reference = cls.from_config({**cls(**args).get_config(), "quantization_config": QUANTIZED})
    assert config == reference.get_config()["quantization_config"]
    assert config["config"]["activation_quantizer"] is None  # as written: weight-only
    assert make(None).get_config()["quantization_config"] is None


def test_gptq_column_size_is_refused():
    with pytest.raises(NotImplementedError, match=r"EinsumDense: `gptq_unpacked_column_size` "
                                                  r"is not supported by kerax \(expected None, "
                                                  r"received 8\)\..*GPTQ"):
        layers.EinsumDense("ab,bc->ac", 3, gptq_unpacked_column_size=8)


@pytest.mark.parametrize("name", ["Dense", "EinsumDense", "Embedding"])
def test_keras_configs_with_neutral_quantization_config_load(keras, name):
    args = {"Dense": dict(units=3), "EinsumDense": dict(equation="ab,bc->ac", output_shape=3),
            "Embedding": dict(input_dim=4, output_dim=2)}[name]
    config = getattr(keras.layers, name)(**args).get_config()
    assert "quantization_config" in config and config["quantization_config"] is None
    layer = getattr(layers, name).from_config(config)
    assert layer.get_config()["quantization_config"] is None


@pytest.mark.parametrize("dtype", ["gptq/4/128_from_float32", "awq/4/128_from_float32"])
def test_quantized_dtype_policies_kerax_does_not_implement_are_refused(dtype):
    # int8, int4 and float8 policies work (tests/layers/test_quantize*.py).
    mode = dtype.split("_from_")[0]
    with pytest.raises(NotImplementedError, match=rf"kerax does not implement the '{mode}' "
                                                  r"quantization mode.*Use a float policy "
                                                  r"such as 'float32'"):
        layers.Dense(3, dtype=dtype)
    layer = layers.Dense(3)
    with pytest.raises(NotImplementedError, match="quantization mode"):
        layer.dtype_policy = dtype
    assert layers.Dense(3, dtype="int32").dtype_policy.name == "int32"  # plain dtypes work


def test_a_quantization_mode_alone_is_not_a_policy():
    with pytest.raises(ValueError, match=r"Cannot convert `policy` into a valid pair \(`mode`, "
                                         r"`source_name`\).*Received: policy=int8"):
        layers.Dense(3, dtype="int8")


@pytest.mark.parametrize("cls, name, kwargs", [
    ("MultiHeadAttention", "MultiHeadAttention", {"num_heads": 2, "key_dim": 2}),
    ("GroupQueryAttention", "GroupedQueryAttention",
     {"head_dim": 2, "num_query_heads": 2, "num_key_value_heads": 1}),
])
def test_attention_activity_regularizer_is_refused(cls, name, kwargs):
    with pytest.raises(NotImplementedError,
                       match=rf"^{name}: `activity_regularizer` is not supported by kerax "
                             r"\(expected None, received 'l2'\)\. kerax does not regularize"):
        getattr(layers, cls)(activity_regularizer="l2", **kwargs)
    assert getattr(layers, cls)(**kwargs).get_config()["activity_regularizer"] is None


def test_input_tensor_and_ragged_are_refused():
    with pytest.raises(NotImplementedError, match=r"^Input: `tensor` is not supported by kerax"):
        kerax.Input((3,), tensor=kerax.Input((3,)))
    with pytest.raises(NotImplementedError,
                       match=r"^InputLayer: `input_tensor` is not supported by kerax"):
        layers.InputLayer(shape=(3,), input_tensor=kerax.Input((3,)))
    with pytest.raises(ValueError, match=r"`ragged=True` is not supported with the jax backend"):
        kerax.Input((None,), ragged=True)
    assert kerax.Input((3,), ragged=False).shape == (None, 3)


def test_lora_is_not_a_silent_no_op():
    # Regression: `lora_rank` used to be accepted and ignored (tests/layers/test_lora.py).
    layer = layers.Dense(2, lora_rank=1)
    layer(np.ones((1, 3), "float32"))
    assert [w.name for w in layer.trainable_weights] == ["bias", "lora_kernel_a",
                                                        "lora_kernel_b"]
