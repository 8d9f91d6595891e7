"""Adaptive pooling beyond the conformance registry: bins, a float64 reference, Keras
parity over a table of shapes (non-divisible, upsampling, both data formats), gradients,
config and errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

import kerax
from kerax.errors import LayerShapeError
from kerax.layers.pooling.adaptive_pooling import adaptive_bins, adaptive_pool

NAMES = [f"Adaptive{kind}Pooling{rank}D" for kind in ("Average", "Max") for rank in (1, 2, 3)]


def _reference(x, output_size, mode):
    """Float64, channels last, one output cell at a time (PyTorch's definition)."""
    x = np.asarray(x, np.float64)
    spatial = x.shape[1:-1]
    out = np.zeros((x.shape[0],) + tuple(output_size) + (x.shape[-1],))
    for cell in np.ndindex(*output_size):
        box = tuple(slice((i * n) // m, -(-((i + 1) * n) // m))
                    for i, n, m in zip(cell, spatial, output_size))
        window = x[(slice(None),) + box + (slice(None),)]
        axes = tuple(range(1, 1 + len(spatial)))
        out[(slice(None),) + cell] = window.max(axes) if mode == "max" else window.mean(axes)
    return out


@pytest.mark.parametrize("length, size, starts, ends", [
    (7, 3, [0, 2, 4], [3, 5, 7]),         # non-divisible: equal widths, overlapping
    (5, 3, [0, 1, 3], [2, 4, 5]),         # widths 2, 3, 2
    (3, 5, [0, 0, 1, 1, 2], [1, 2, 2, 3, 3]),  # more cells than positions
    (8, 4, [0, 2, 4, 6], [2, 4, 6, 8]),   # divisible: plain non-overlapping pooling
    (1, 3, [0, 0, 0], [1, 1, 1]),
])
def test_bins(length, size, starts, ends):
    got = adaptive_bins(length, size)
    assert got[0].tolist() == starts and got[1].tolist() == ends


# (spatial input shape, output_size): non-divisible, output > input, mixed, identity.
SHAPES = [
    ((7,), (3,)), ((10,), (4,)), ((3,), (5,)), ((1,), (3,)), ((6,), (6,)),
    ((7, 5), (3, 2)), ((4, 6), (5, 3)), ((3, 3), (5, 1)),
    ((5, 4, 3), (2, 3, 2)), ((3, 2, 3), (4, 2, 5)),
]
# Data formats alternate along the table, so each rank sees both (and the suite stays fast).
TABLE = [(mode, spatial, size, ("channels_last", "channels_first")[i % 2])
         for mode in ("average", "max") for i, (spatial, size) in enumerate(SHAPES)]


def _ids(row):
    mode, spatial, size, df = row
    return f"{mode}-{'x'.join(map(str, spatial))}to{'x'.join(map(str, size))}-{df[9:]}"


@pytest.mark.parametrize("mode, spatial, size, data_format", TABLE,
                         ids=[_ids(r) for r in TABLE])
def test_matches_reference_and_keras(mode, spatial, size, data_format, keras, rng):
    name = f"Adaptive{'Average' if mode == 'average' else 'Max'}Pooling{len(spatial)}D"
    x_last = rng.standard_normal((2,) + spatial + (3,)).astype("float32")
    x = x_last if data_format == "channels_last" else np.moveaxis(x_last, -1, 1)
    got = np.asarray(getattr(kerax.layers, name)(size, data_format=data_format)(x))
    expected = np.asarray(getattr(keras.layers, name)(size, data_format=data_format)(x))
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)
    if data_format == "channels_first":
        got = np.moveaxis(got, 1, -1)
    np.testing.assert_allclose(got, _reference(x_last, size, mode), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mode", ["average", "max"])
def test_exact_bin_edges_where_keras_rounds(mode):
    # 3 -> 7: the last bin ends at 21 / 7 = 3 exactly. Keras 3.15 computes the edge in
    # float32, rounds it up and returns NaN for that cell; integer edges give position 2.
    x = np.arange(1.0, 4.0, dtype="float32").reshape(1, 3, 1)
    got = np.asarray(adaptive_pool(x, (7,), mode))
    np.testing.assert_allclose(got, _reference(x, (7,), mode), rtol=1e-6)
    assert got[0, -1, 0] == 3.0


def test_default_data_format_follows_config():
    assert kerax.layers.AdaptiveMaxPooling2D(2).data_format == "channels_last"
    kerax.config.set_image_data_format("channels_first")
    try:
        layer = kerax.layers.AdaptiveMaxPooling2D(2)
    finally:
        kerax.config.set_image_data_format("channels_last")
    assert layer.data_format == "channels_first"
    assert layer(np.ones((1, 3, 6, 6), "float32")).shape == (1, 3, 2, 2)


@pytest.mark.parametrize("mode", ["average", "max"])
def test_input_gradients(mode, rng):
    x = jnp.asarray(rng.standard_normal((2, 7, 5, 3)), jnp.float32)
    check_grads(lambda v: adaptive_pool(v, (3, 8), mode), (x,), order=1, modes=["rev"],
                atol=2e-2, rtol=2e-2)


def test_average_gradient_counts_each_bin_once():
    # 7 -> 3: bins [0,3), [2,5), [4,7); positions 2 and 4 sit in two bins.
    grad = jax.grad(lambda v: jnp.sum(adaptive_pool(v, (3,), "average")))(jnp.ones((1, 7, 1)))
    np.testing.assert_allclose(grad[0, :, 0], np.array([1, 1, 2, 1, 2, 1, 1]) / 3, rtol=1e-6)


def test_max_keeps_integer_dtype():
    x = jnp.arange(14, dtype=jnp.int32).reshape(1, 7, 2)
    out = adaptive_pool(x, (3,), "max")
    assert out.dtype == jnp.int32 and out[0, :, 0].tolist() == [4, 8, 12]


def test_symbolic_output_shape():
    y = kerax.layers.AdaptiveAveragePooling2D((3, 4))(kerax.Input((7, 5, 2)))
    assert tuple(y.shape) == (None, 3, 4, 2)


@pytest.mark.parametrize("name", NAMES)
def test_config_matches_keras(name, keras):
    rank = int(name[-2])
    layer = getattr(kerax.layers, name)(3, data_format="channels_first", name="pool")
    klayer = getattr(keras.layers, name)(3, data_format="channels_first", name="pool")
    config, kconfig = layer.get_config(), klayer.get_config()
    assert config["output_size"] == kconfig["output_size"] == (3,) * rank
    assert config["data_format"] == kconfig["data_format"]
    # A config read back from JSON holds a list.
    clone = type(layer).from_config({**config, "output_size": [2] * rank})
    assert clone.output_size == (2,) * rank


@pytest.mark.parametrize("name, output_size, error, match", [
    ("AdaptiveAveragePooling1D", (2, 3), ValueError,
     (r"AdaptiveAveragePooling1D: `output_size` must be an int or a tuple of 1 int "
      r"\(length\).*Received output_size=\(2, 3\) of length 2")),
    ("AdaptiveMaxPooling2D", (2,), TypeError,
     (r"AdaptiveMaxPooling2D: `output_size` must be an int or a tuple of 2 ints "
      r"\(height, width\).*of length 1")),
    ("AdaptiveMaxPooling3D", "2", TypeError,
     r"tuple of 3 ints \(depth, height, width\).*Received output_size='2' of type str"),
    ("AdaptiveAveragePooling2D", (2, 2.5), TypeError, r"Received output_size=\(2, 2.5\)\."),
    ("AdaptiveAveragePooling3D", True, TypeError, r"of type bool"),
    ("AdaptiveMaxPooling1D", 0, ValueError, r"each > 0.*use a positive size per axis"),
    ("AdaptiveAveragePooling2D", (3, -1), ValueError, r"Received output_size=\(3, -1\);"),
])
def test_bad_output_size(name, output_size, error, match):
    with pytest.raises(error, match=match):
        getattr(kerax.layers, name)(output_size)


def test_bad_data_format():
    with pytest.raises(ValueError, match="`data_format` must be 'channels_first' or "
                                         "'channels_last'. Received: data_format='nhwc'"):
        kerax.layers.AdaptiveMaxPooling2D(2, data_format="NHWC")


@pytest.mark.parametrize("name, shape, rank", [
    ("AdaptiveMaxPooling2D", (5, 5, 3), 4),
    ("AdaptiveAveragePooling1D", (2, 5, 5, 3), 3),
    ("AdaptiveAveragePooling3D", (2, 5, 5, 3), 5),
])
def test_wrong_rank(name, shape, rank):
    layer = getattr(kerax.layers, name)(2, name="adaptive")
    expected = rf"{name} 'adaptive': expected rank {rank}, received input of shape " + \
        re_shape(shape)
    with pytest.raises(LayerShapeError, match=expected):
        layer(np.zeros(shape, "float32"))


def re_shape(shape):
    return r"\(" + ", ".join(map(str, shape)) + r"\)"
