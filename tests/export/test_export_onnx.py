"""`model.export(path, format="onnx")` via jax2onnx, checked in onnxruntime (1e-5).

jax2onnx is an optional extra that pins its own dependency versions (orbax-checkpoint
<0.11.37), so the core environment may lack it; these tests then skip, except the one that
checks the install hint. Run them in an environment with `pip install jax2onnx`.
"""

import importlib.util

import jax
import numpy as np
import pytest

import kerax
from kerax import layers as L
from kerax.export.onnx_lowering import onnx_compatible

ATOL = 1e-5
HAS_JAX2ONNX = importlib.util.find_spec("jax2onnx") is not None


def _cases():
    def mha():
        x = kerax.Input((4, 8))
        return kerax.Model(x, L.MultiHeadAttention(2, 4)(x, x, use_causal_mask=True))

    seq = kerax.Sequential
    return {
        "dense_batchnorm_layernorm": (lambda: seq([
            kerax.Input((3,)), L.Dense(4, activation="relu"), L.BatchNormalization(),
            L.LayerNormalization(), L.Dense(2)]), (3,), "float32"),
        "conv1d_separable_globalpool": (lambda: seq([
            kerax.Input((8, 2)), L.Conv1D(3, 2), L.SeparableConv1D(2, 2),
            L.GlobalMaxPooling1D()]), (8, 2), "float32"),
        "conv2d_depthwise_transpose_avgpool": (lambda: seq([
            kerax.Input((6, 6, 2)), L.Conv2D(3, 3, padding="same"), L.DepthwiseConv2D(3),
            L.Conv2DTranspose(2, 2), L.GlobalAveragePooling2D()]), (6, 6, 2), "float32"),
        "embedding_masked_lstm": (lambda: seq([
            kerax.Input((5,), dtype="int32"), L.Embedding(10, 4, mask_zero=True),
            L.LSTM(3)]), (5,), "int32"),
        "gru_simplernn": (lambda: seq([
            kerax.Input((5, 2)), L.GRU(3, return_sequences=True), L.SimpleRNN(2)]),
            (5, 2), "float32"),
        "bidirectional_lstm": (lambda: seq([
            kerax.Input((5, 2)), L.Bidirectional(L.LSTM(3))]), (5, 2), "float32"),
        "causal_multi_head_attention": (mha, (4, 8), "float32"),
        # jax2onnx cannot convert these directly: kerax rewrites them (onnx_lowering)
        "max_pooling2d": (lambda: seq([kerax.Input((6, 6, 2)), L.MaxPooling2D()]),
                          (6, 6, 2), "float32"),
        "max_pooling2d_same_channels_first": (lambda: seq([
            kerax.Input((2, 7, 7)),
            L.MaxPooling2D(3, 2, padding="same", data_format="channels_first")]),
            (2, 7, 7), "float32"),
        "max_pooling3d_average_pooling3d": (lambda: seq([
            kerax.Input((5, 5, 5, 2)), L.MaxPooling3D(padding="same"),
            L.AveragePooling3D(2, padding="same")]), (5, 5, 5, 2), "float32"),
        "conv3d": (lambda: seq([kerax.Input((4, 4, 4, 1)), L.Conv3D(2, 2)]),
                   (4, 4, 4, 1), "float32"),
        "conv3d_same_strided_groups": (lambda: seq([
            kerax.Input((5, 5, 5, 4)), L.Conv3D(4, 3, strides=2, padding="same", groups=2)]),
            (5, 5, 5, 4), "float32"),
        "conv3d_channels_first_dilated": (lambda: seq([
            kerax.Input((2, 6, 6, 6)),
            L.Conv3D(3, 2, dilation_rate=2, data_format="channels_first")]),
            (2, 6, 6, 6), "float32"),
        "conv3d_transpose": (lambda: seq([
            kerax.Input((3, 3, 3, 2)), L.Conv3DTranspose(2, 3, strides=2, padding="same")]),
            (3, 3, 3, 2), "float32"),
        "conv1d_transpose_separable2d_depthwise1d": (lambda: seq([
            kerax.Input((6, 2)), L.Conv1DTranspose(3, 2, strides=2),
            L.DepthwiseConv1D(3, padding="same"),
            L.Reshape((3, 4, 3)), L.SeparableConv2D(2, 2)]), (6, 2), "float32"),
        "pooling1d_conv1d_dilated": (lambda: seq([
            kerax.Input((9, 2)), L.Conv1D(4, 3, dilation_rate=2, padding="causal"),
            L.MaxPooling1D(3, 2, padding="same"), L.AveragePooling1D(2)]),
            (9, 2), "float32"),
        "conv2d_grouped_channels_first_avgpool2d": (lambda: seq([
            kerax.Input((4, 7, 7)),
            L.Conv2D(4, 3, strides=2, groups=2, data_format="channels_first"),
            L.AveragePooling2D(2, padding="same", data_format="channels_first")]),
            (4, 7, 7), "float32"),
        "conv_lstm3d": (lambda: seq([kerax.Input((3, 4, 4, 4, 1)), L.ConvLSTM3D(2, 2)]),
                        (3, 4, 4, 4, 1), "float32"),  # a 3-D conv inside a scan
    }


def _check(tmp_path, make, shape, dtype):
    ort = pytest.importorskip("onnxruntime")
    model = make()
    path = tmp_path / "m.onnx"
    model.export(path, format="onnx", verbose=False)
    session = ort.InferenceSession(str(path))
    assert session.get_inputs()[0].shape[0] == "B"  # symbolic batch
    for batch in (1, 7):
        rng = np.random.default_rng(batch)
        if dtype == "int32":
            x = rng.integers(1, 10, (batch,) + shape).astype(dtype)
            x[:, -2:] = 0  # masked padding
        else:
            x = rng.normal(size=(batch,) + shape).astype(dtype)
        got = session.run(None, {session.get_inputs()[0].name: x})[0]
        np.testing.assert_allclose(got, model.predict(x, verbose=0), atol=ATOL, rtol=ATOL)


@pytest.mark.skipif(not HAS_JAX2ONNX, reason="jax2onnx is an optional extra")
@pytest.mark.parametrize("name", list(_cases()))
def test_onnx_matches_predict(tmp_path, name):
    _check(tmp_path, *_cases()[name])


@pytest.mark.skipif(HAS_JAX2ONNX, reason="checks the message shown without jax2onnx")
def test_without_jax2onnx_the_error_says_how_to_install(tmp_path):
    model = kerax.Sequential([kerax.Input((3,)), L.Dense(2)])
    with pytest.raises(ImportError, match=r"format=\"onnx\" needs jax2onnx.*pip install "
                                          r"jax2onnx onnxruntime"):
        model.export(tmp_path / "m.onnx", format="onnx")


# The rewrite behind the new cases needs only jax: checked here in every environment.
def _symbolic(*shape):
    batch, = jax.export.symbolic_shape("B")
    return jax.ShapeDtypeStruct((batch,) + shape, "float32")


@pytest.mark.parametrize("dtype", ["float32", "int32"])
@pytest.mark.parametrize("window,strides,padding,shape", [
    ((1, 2, 2, 1), (1, 2, 2, 1), "VALID", (2, 6, 6, 3)),
    ((1, 1, 3, 3), (1, 1, 2, 2), "SAME", (2, 3, 7, 7)),
    ((1, 2, 2, 2, 1), (1, 1, 2, 2, 1), "SAME", (2, 5, 5, 5, 2)),
])
def test_onnx_compatible_max_pooling_is_exact(window, strides, padding, shape, dtype):
    low = -np.inf if dtype == "float32" else np.iinfo(dtype).min
    pool = jax.jit(lambda x: jax.lax.reduce_window(x, np.array(low, dtype), jax.lax.max,
                                                   window, strides, padding))
    x = (np.random.default_rng(0).normal(size=shape) * 10).astype(dtype)
    np.testing.assert_array_equal(onnx_compatible(pool)(x), pool(x))
    jaxpr = str(jax.make_jaxpr(onnx_compatible(pool))(_symbolic(*shape[1:])))
    assert "reduce_window_max" not in jaxpr and " pad[" not in jaxpr


@pytest.mark.parametrize("spec,strides,padding,dilation,groups,lhs_dilation", [
    ("NDHWC", (1, 1, 1), "VALID", (1, 1, 1), 1, (1, 1, 1)),
    ("NDHWC", (2, 2, 1), "SAME", (1, 1, 1), 2, (1, 1, 1)),
    ("NCDHW", (1, 1, 1), ((1, 2), (0, 1), (2, 0)), (2, 1, 2), 1, (1, 1, 1)),
    ("NDHWC", (1, 1, 1), ((-1, 2), (1, 1), (0, 0)), (1, 1, 1), 1, (2, 1, 3)),
])
def test_onnx_compatible_conv3d_matches_lax(spec, strides, padding, dilation, groups,
                                            lhs_dilation):
    rng = np.random.default_rng(1)
    shape = (5, 6, 4, 4) if spec == "NDHWC" else (4, 5, 6, 4)
    x = rng.normal(size=(2,) + shape).astype("float32")
    kernel = rng.normal(size=(3, 2, 3, 4 // groups, 6)).astype("float32")

    def conv(x, kernel):
        return jax.lax.conv_general_dilated(
            x, kernel, strides, padding, lhs_dilation=lhs_dilation, rhs_dilation=dilation,
            dimension_numbers=(spec, "DHWIO", spec), feature_group_count=groups)

    np.testing.assert_allclose(onnx_compatible(conv)(x, kernel), conv(x, kernel),
                               atol=1e-4, rtol=1e-5)
    jaxpr = jax.make_jaxpr(onnx_compatible(conv))(
        _symbolic(*shape), jax.ShapeDtypeStruct(kernel.shape, kernel.dtype))
    convs = [e for e in jaxpr.jaxpr.eqns if e.primitive.name == "conv_general_dilated"]
    assert len(convs) == 3 and all(e.invars[0].aval.ndim == 4 for e in convs)


def test_onnx_compatible_rewrites_inside_loops():
    def step(carry, x):
        return carry, jax.lax.reduce_window(x, -np.inf, jax.lax.max, (1, 2, 2, 2, 1),
                                            (1, 2, 2, 2, 1), "VALID")

    def f(xs):
        return jax.lax.scan(step, 0.0, xs)[1]
    xs = np.random.default_rng(3).normal(size=(3, 2, 4, 4, 4, 1)).astype("float32")
    np.testing.assert_array_equal(onnx_compatible(f)(xs), f(xs))
    assert "reduce_window_max" not in str(jax.make_jaxpr(onnx_compatible(f))(xs))


def test_onnx_compatible_leaves_other_functions_alone():
    def f(x):
        return jax.jit(jax.nn.relu)(x) @ x.T
    x = np.random.default_rng(2).normal(size=(3, 3)).astype("float32")
    assert str(jax.make_jaxpr(onnx_compatible(f))(x)) == str(jax.make_jaxpr(f)(x))
