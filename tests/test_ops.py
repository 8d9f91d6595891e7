"""kerax.ops behaviour beyond the Keras parity table: error messages, jit, references."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kerax.ops as ops
from kerax.ops import dtypes


def test_sparsemax_projects_onto_the_simplex():
    x = jnp.array([[3.0, 0.0, -1.0], [-2.9, 1.88, 2.48]])
    out = np.asarray(ops.sparsemax(x))
    np.testing.assert_allclose(out.sum(-1), [1.0, 1.0], rtol=1e-6)
    np.testing.assert_allclose(out[1], [0.0, 0.2, 0.8], atol=1e-6)
    np.testing.assert_allclose(ops.sparsemax(x.T, axis=0), out.T, atol=1e-6)


def test_pools_default_strides_to_pool_size():
    x = jnp.arange(16.0).reshape(1, 4, 4, 1)
    assert ops.max_pool(x, 2).shape == (1, 2, 2, 1)
    assert float(ops.average_pool(x, 2)[0, 0, 0, 0]) == 2.5


@pytest.mark.parametrize(
    "args,expected",
    [(("int32", "float16"), "float16"), (("int8", "uint8"), "int16"), (("bool", int), "int32"),
     (("int64", "float64"), "float32"), (("bfloat16", "float16"), "float32"),
     (("uint8", int), "uint8"), ((int, float), "float32"), ((), "float32")],
)
def test_result_type_matches_keras(keras, args, expected):
    assert dtypes.result_type(*args) == keras.backend.result_type(*args) == expected


def test_core_ops_work_under_jit():
    @jax.jit
    def f(x):
        y = ops.scatter_update(x, jnp.array([[0]]), jnp.array([5.0]))
        return ops.while_loop(lambda v: v.sum() < 100, lambda v: v * 2, y)

    assert f(jnp.ones(3)).tolist() == [80.0, 16.0, 16.0]


def test_errors():
    with pytest.raises(ValueError, match="Invalid dtype: 'float7'"):
        ops.cast(jnp.ones(1), "float7")
    with pytest.raises(ValueError, match="'string' is not a valid dtype for type promotion"):
        dtypes.result_type("float32", "string")
    with pytest.raises(ValueError, match="Unsupported `reduction`: 'avg'"):
        ops.scatter_update(jnp.zeros(2), [[0]], [1.0], reduction="avg")
    with pytest.raises(ValueError, match="`unroll` must be a positive int"):
        ops.scan(lambda c, x: (c, x), 0, jnp.ones(2), unroll=0)
    with pytest.raises(ValueError, match="`ragged=True` is not supported"):
        ops.convert_to_tensor([1], ragged=True)
    with pytest.raises(ValueError, match="needs both `x1` and `x2`"):
        ops.where(jnp.ones(2) > 0, 1.0)
    with pytest.raises(ValueError, match="`constant_values` can only be used"):
        ops.pad(jnp.ones(2), 1, mode="reflect", constant_values=1)
    with pytest.raises(ValueError, match="`histogram` needs a 1-D input"):
        ops.histogram(jnp.ones((2, 2)))
    with pytest.raises(ValueError, match="`sparse=True` is not supported"):
        ops.bincount(jnp.array([1]), sparse=True)
    with pytest.raises(ValueError, match="`sparse=True` is not supported"):
        ops.one_hot(jnp.array([1]), 2, sparse=True)
    with pytest.raises(TypeError, match="`ldexp` needs an integer `x2`"):
        ops.ldexp(jnp.ones(2), jnp.ones(2))
    with pytest.raises(ValueError, match=r"Expected `x` to be a tuple `\(real, imag\)`"):
        ops.fft(jnp.ones(2))
    with pytest.raises(ValueError, match="must have the same shape"):
        ops.fft((jnp.ones(2), jnp.ones(3)))
    with pytest.raises(ValueError, match="Unknown `window`: 'box'"):
        ops.stft(jnp.ones(16), 4, 2, 4, window="box")
    with pytest.raises(ValueError, match="last axis of `x` must have size 2"):
        ops.view_as_complex(jnp.ones((2, 3)))
    with pytest.raises(ValueError, match="`mode` must be 'reduced' or 'complete'"):
        ops.qr(jnp.eye(2), mode="r")
    with pytest.raises(ValueError, match="`padding` must be 'valid' or 'same'"):
        ops.max_pool(jnp.ones((1, 4, 4, 1)), 2, padding="full")
    with pytest.raises(ValueError, match="must be a multiple of the kernel's input channels"):
        ops.conv(jnp.ones((1, 4, 3)), jnp.ones((2, 2, 1)))
    with pytest.raises(ValueError, match="Argument `order` must be an int >= 1"):
        ops.normalize(jnp.ones(2), order=0)
    with pytest.raises(ValueError, match="`target` and `output` must have the same shape"):
        ops.binary_crossentropy(jnp.ones(2), jnp.ones(3))
    with pytest.raises(ValueError, match="same shape up until the last dimension"):
        ops.sparse_categorical_crossentropy(jnp.ones(3), jnp.ones((2, 3)))
    with pytest.raises(ValueError, match="Input shapes must match for psnr"):
        ops.psnr(jnp.ones(2), jnp.ones(3), 1.0)
    with pytest.raises(ValueError, match="Unrecognized keyword arguments to multi_hot"):
        ops.multi_hot(jnp.array([1]), 2, foo=1)
    with pytest.raises(ValueError, match="Unrecognized keyword arguments to layer_normalization"):
        ops.layer_normalization(jnp.ones(2), foo=1)
    with pytest.raises(NotImplementedError, match="`synchronized=True` is not supported"):
        ops.moments(jnp.ones(2), 0, synchronized=True)
