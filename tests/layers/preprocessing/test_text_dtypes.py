"""The string layers report Keras 3's dtypes (recorded from Keras 3.15.1 on TensorFlow 2.21:
Keras needs TensorFlow for these layers, so the values are written here)."""

import pytest

import kerax

# name, kwargs, (compute_dtype, dtype, variable_dtype), config dtype policy name
KERAS = [
    ("TextVectorization", {}, ("string",) * 3, "float32"),
    ("StringLookup", {}, ("string",) * 3, "float32"),
    ("IntegerLookup", {}, ("int64",) * 3, "float32"),
    ("Hashing", {"num_bins": 3}, ("int64",) * 3, "int64"),
    ("HashedCrossing", {"num_bins": 3}, ("int64",) * 3, None),
]


@pytest.mark.parametrize("name,kwargs,dtypes,config_dtype", KERAS, ids=[k[0] for k in KERAS])
def test_dtypes_as_keras(name, kwargs, dtypes, config_dtype):
    layer = getattr(kerax.layers, name)(**kwargs)
    assert (layer.compute_dtype, layer.dtype, layer.variable_dtype) == dtypes
    dtype = layer.get_config()["dtype"]
    if config_dtype is None:
        assert dtype == "int64"
    else:
        assert dtype["config"]["name"] == config_dtype
    # a layer built from its shape alone still builds (the probe is not a "string" array)
    layer.build((None,) if name != "HashedCrossing" else [(None,), (None,)])
    assert layer.built
