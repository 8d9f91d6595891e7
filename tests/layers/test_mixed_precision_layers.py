"""Every conformance case under a mixed precision policy, against Keras 3.

Each case of the conformance registry is built with `dtype="mixed_bfloat16"` on kerax and
on Keras, with the same weights (`get_weights`/`set_weights`) and the same float32
inputs; the output dtype(s) must be Keras', the values equal within bfloat16 rounding, and
every floating variable stays float32 (the policy's variable dtype). A few cases also run
under `"mixed_float16"`.
"""

import jax
import numpy as np
import pytest

import kerax
from tests.layers import test_conformance

_POLICY = "mixed_bfloat16"
_CASES = [c for c in test_conformance.CASES
          if "keras_parity" not in c.skip and "dtype" not in c.kwargs]

# Known differences from Keras that are not fixed yet: test id -> precise cause.
_XFAIL = {}

# Layers that refuse a bfloat16 input, on Keras as on kerax (a TypeError).
_REFUSE_BFLOAT16 = {"STFTSpectrogram"}

# Cases also run under mixed_float16 (one per family of computation).
_FLOAT16 = {"Dense", "Conv2D", "Embedding", "LayerNormalization", "BatchNormalization",
            "MultiHeadAttention", "LSTM", "Add", "Softmax", "ReversibleEmbedding"}


# The default run checks the first case of one layer per way of casting (the layers this
# sweep fixed and the core ones); every other case runs with `-m slow`.
_FAST_LAYERS = {"Dense", "Conv2D", "Embedding", "ReversibleEmbedding", "BatchNormalization",
                "LayerNormalization", "GroupNormalization", "Rescaling", "RandomFlip",
                "Normalization", "Discretization", "SimpleRNN", "LSTM", "Bidirectional",
                "TimeDistributed", "SpectralNormalization", "MultiHeadAttention", "Softmax"}
_FIRST = {}
for _c in _CASES:
    _FIRST.setdefault(_c.layer, _c.test_id)
_DEFAULT = {i for name, i in _FIRST.items() if name in _FAST_LAYERS} | {
    "ReversibleEmbedding-reverse_untied_cap", "Embedding-mask_zero", "LSTM-mask",
    "Bidirectional-sum_state", "RNN-stacked_list", "Normalization-given"}
assert _DEFAULT <= {c.test_id for c in _CASES}


def _params(cases, policy):
    out = []
    for c in cases:
        fast = c.test_id in _DEFAULT and (policy == _POLICY or c.layer == "Dense")
        marks = [] if fast else [pytest.mark.slow]
        if c.test_id in _XFAIL:
            marks.append(pytest.mark.xfail(strict=True, reason=_XFAIL[c.test_id]))
        out.append(pytest.param(c, policy, id=f"{c.test_id}-{policy}", marks=marks))
    return out


_PARAMS = _params(_CASES, _POLICY) + _params(
    [c for c in _CASES if c.test_id in _FLOAT16], "mixed_float16")


def _close(got, expected, rtol, atol):
    got, expected = jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(expected)
    assert len(got) == len(expected)
    for x, y in zip(got, expected):
        assert str(np.asarray(x).dtype) == str(np.asarray(y).dtype) or \
            str(x.dtype) == str(y.dtype), (x.dtype, y.dtype)
        np.testing.assert_allclose(np.asarray(x, np.float64), np.asarray(y, np.float64),
                                   rtol=rtol, atol=atol)


@pytest.mark.parametrize("case,policy", _PARAMS)
def test_mixed_policy_matches_keras(case, policy, keras):
    kwargs = dict(case.kwargs, dtype=policy)
    kkwargs = dict(case.keras_kwargs or case.kwargs, dtype=policy)
    layer = getattr(kerax.layers, case.layer)(**kwargs)
    inputs = case.inputs(np.random.default_rng(0))
    variables = layer.init(jax.random.PRNGKey(0), *inputs)
    for leaf in jax.tree_util.tree_leaves(variables):
        if jax.numpy.issubdtype(leaf.dtype, jax.numpy.floating):
            assert leaf.dtype == jax.numpy.float32, leaf.dtype
    layer.variables = variables
    klayer = getattr(keras.layers, case.layer)(**kkwargs)
    kin = inputs[0] if len(inputs) == 1 else inputs
    if case.layer in _REFUSE_BFLOAT16 and policy == "mixed_bfloat16":
        with pytest.raises(TypeError, match="bfloat16"):
            klayer(kin, **case.call_kwargs)
        with pytest.raises(TypeError, match="received bfloat16"):
            layer.apply(variables, *inputs, **case.call_kwargs)
        return
    klayer(kin, **case.call_kwargs)
    klayer.set_weights(layer.get_weights())
    assert [str(w.dtype) for w in layer.get_weights()] == \
        [str(w.dtype) for w in klayer.get_weights()]
    expected = klayer(kin, training=False, **case.call_kwargs)
    got, _ = layer.apply(variables, *inputs, training=False, rng=jax.random.PRNGKey(1),
                         **case.call_kwargs)
    tol = 2e-2 if policy == "mixed_float16" else 6e-2
    _close(got, expected, max(case.rtol, tol), max(case.atol, tol))


def test_embedding_outputs_follow_keras_casts(keras):
    """`Embedding` casts its rows to the compute dtype; `reverse=True` keeps the float32
    input (Embedding's `autocast=False`) and so promotes with the bfloat16 kernel."""
    ids, hidden = np.array([[1, 2]]), np.ones((2, 4), "float32")
    for lib in (kerax, keras):
        assert str(lib.layers.Embedding(6, 4, dtype="mixed_bfloat16")(ids).dtype) == "bfloat16"
        layer = lib.layers.ReversibleEmbedding(6, 4, dtype="mixed_bfloat16")
        layer(ids)
        assert str(layer(hidden, reverse=True).dtype) == "float32"
        assert str(layer.embeddings.dtype) == "float32"


@pytest.mark.parametrize("name,arg", [("GaussianNoise", 0.5), ("GaussianDropout", 0.3),
                                      ("Dropout", 0.3)])
def test_training_noise_is_drawn_in_the_compute_dtype(name, arg, keras):
    x = np.ones((2, 3), "float32")
    for lib in (kerax, keras):
        out = getattr(lib.layers, name)(arg, dtype="mixed_bfloat16", seed=1)(x, training=True)
        assert str(out.dtype) == "bfloat16", (lib.__name__, out.dtype)


@pytest.mark.slow
@pytest.mark.parametrize("case", _CASES, ids=lambda c: c.test_id)
def test_training_output_dtype_matches_keras(case, keras):
    """In training mode too (random layers draw differently: only dtypes are compared)."""
    if case.layer in _REFUSE_BFLOAT16:
        pytest.skip("refuses bfloat16 input on Keras too")
    layer = getattr(kerax.layers, case.layer)(**dict(case.kwargs, dtype=_POLICY))
    klayer = getattr(keras.layers, case.layer)(
        **dict(case.keras_kwargs or case.kwargs, dtype=_POLICY))
    inputs = case.inputs(np.random.default_rng(0))
    variables = layer.init(jax.random.PRNGKey(0), *inputs)
    got, _ = layer.apply(variables, *inputs, training=True, rng=jax.random.PRNGKey(1),
                         **case.call_kwargs)
    expected = klayer(inputs[0] if len(inputs) == 1 else inputs, training=True,
                      **case.call_kwargs)
    assert [str(x.dtype) for x in jax.tree_util.tree_leaves(got)] == \
        [str(x.dtype) for x in jax.tree_util.tree_leaves(expected)]
