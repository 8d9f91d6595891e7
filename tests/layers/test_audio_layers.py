"""ReversibleEmbedding, STFTSpectrogram and MelSpectrogram against Keras 3."""

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

import kerax
from kerax.errors import LayerShapeError, UnknownIdentifierError
from kerax.layers import MelSpectrogram, ReversibleEmbedding, STFTSpectrogram
from kerax.layers.preprocessing.spectrogram import linear_to_mel_weight_matrix

IDS = np.array([[1, 2, 3], [0, 6, 5]], dtype="int32")


def _hidden(seed=0):
    return (np.random.default_rng(seed).standard_normal((2, 3, 4)) * 3).astype("float32")


def _pair(keras, name, kwargs, x, **call):
    """A Keras layer and a kerax layer built on `x`, with Keras' weights moved over."""
    klayer = getattr(keras.layers, name)(**kwargs)
    klayer(x, **call)
    layer = getattr(kerax.layers, name)(**kwargs)
    layer(x, **call)
    layer.set_weights(klayer.get_weights())
    return klayer, layer


# ------------------------------------------------------------- ReversibleEmbedding --
RE_KWARGS = [
    dict(),
    dict(tie_weights=False),
    dict(logit_soft_cap=2.0),
    dict(tie_weights=False, logit_soft_cap=0.5, mask_zero=True),
    dict(reverse_dtype="float16"),
]


@pytest.mark.parametrize("kwargs", RE_KWARGS, ids=str)
def test_reversible_embedding_matches_keras(keras, kwargs):
    klayer, layer = _pair(keras, "ReversibleEmbedding", dict(input_dim=7, output_dim=4, **kwargs),
                          IDS)
    assert [w.path.split("/")[-1] for w in klayer.weights] == \
        ["embeddings"] + ([] if kwargs.get("tie_weights", True) else ["reverse_embeddings"])
    assert [w.shape for w in layer.get_weights()] == [tuple(w.shape) for w in klayer.weights]
    np.testing.assert_allclose(layer(IDS), klayer(IDS), rtol=1e-6)
    h = _hidden()
    expected = np.asarray(klayer(h, reverse=True))
    got = layer(h, reverse=True)
    assert got.shape == (2, 3, 7)
    assert str(got.dtype) == str(expected.dtype)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    if "logit_soft_cap" in kwargs:
        assert np.abs(got).max() <= kwargs["logit_soft_cap"]


def test_reversible_embedding_untied_weights_are_separate():
    layer = ReversibleEmbedding(7, 4, tie_weights=False)
    v = layer.init(jax.random.PRNGKey(0), IDS)
    assert list(v["params"]) == ["embeddings", "reverse_embeddings"]
    assert v["params"]["reverse_embeddings"].shape == (4, 7)
    assert not np.allclose(v["params"]["reverse_embeddings"], v["params"]["embeddings"].T)
    layer.variables = v
    np.testing.assert_array_equal(layer.reverse_embeddings, v["params"]["reverse_embeddings"])


@pytest.mark.parametrize("tie_weights", [True, False])
def test_reversible_embedding_gradients_match_keras(keras, tie_weights):
    kwargs = dict(input_dim=7, output_dim=4, tie_weights=tie_weights, logit_soft_cap=3.0)
    klayer, layer = _pair(keras, "ReversibleEmbedding", kwargs, IDS)
    h = _hidden(1)

    def kloss(trainable, x):
        emb, _ = klayer.stateless_call(trainable, [], IDS)
        logits, _ = klayer.stateless_call(trainable, [], x + emb, reverse=True)
        return jnp.sum(jnp.sin(logits))

    def loss(params, x):
        v = {"params": params, "state": {}}
        emb, _ = layer.apply(v, IDS)
        return jnp.sum(jnp.sin(layer.apply(v, x + emb, reverse=True)[0]))

    params = layer.variables["params"]
    kgrads = jax.grad(kloss, argnums=(0, 1))([w.value for w in klayer.trainable_variables], h)
    grads = jax.grad(loss, argnums=(0, 1))(params, h)
    names = ["embeddings"] + ([] if tie_weights else ["reverse_embeddings"])
    for name, kg in zip(names, kgrads[0]):
        np.testing.assert_allclose(grads[0][name], kg, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(grads[1], kgrads[1], rtol=1e-4, atol=1e-5)
    check_grads(loss, (params, h), order=1, modes=["rev"], atol=5e-2, rtol=5e-2)


def test_reversible_embedding_jit_vmap_and_mask():
    layer = ReversibleEmbedding(7, 4, mask_zero=True, tie_weights=False)
    v = layer.init(jax.random.PRNGKey(0), IDS)
    h = _hidden()
    fn = jax.jit(lambda v, x: layer.apply(v, x, reverse=True)[0])
    eager = layer.apply(v, h, reverse=True)[0]
    np.testing.assert_allclose(fn(v, h), eager, rtol=1e-6)
    np.testing.assert_allclose(jax.vmap(fn, in_axes=(None, 0))(v, h), eager, rtol=1e-6)
    assert layer.compute_mask(IDS).tolist() == (IDS != 0).tolist()
    assert layer.compute_mask(h) is None  # reverse projections carry no mask


def test_reversible_embedding_config_round_trip(keras):
    kwargs = dict(input_dim=7, output_dim=4, tie_weights=False, logit_soft_cap=2.5,
                  reverse_dtype="float32", mask_zero=True)
    layer = ReversibleEmbedding(**kwargs)
    config = layer.get_config()
    assert ReversibleEmbedding.from_config(config).get_config() == config
    kconfig = keras.layers.ReversibleEmbedding(**kwargs).get_config()
    clone = ReversibleEmbedding.from_config(kconfig)
    for key in ("tie_weights", "reverse_dtype", "logit_soft_cap", "mask_zero", "input_dim"):
        assert getattr(clone, key) == kconfig[key]


def test_reversible_embedding_in_functional_model():
    inputs = kerax.Input((3,), dtype="int32")
    emb = ReversibleEmbedding(7, 4)
    logits = emb(kerax.layers.Dense(4)(emb(inputs)), reverse=True)
    model = kerax.Model(inputs, logits)
    assert model(IDS).shape == (2, 3, 7)


def test_reversible_embedding_errors():
    with pytest.raises(ValueError, match="`logit_soft_cap` must be None or a positive number. "
                       r"Received: logit_soft_cap=0"):
        ReversibleEmbedding(7, 4, logit_soft_cap=0)
    with pytest.raises(ValueError, match="`input_dim` must be a positive integer"):
        ReversibleEmbedding(0, 4)
    layer = ReversibleEmbedding(7, 4, name="tok")
    v = layer.init(jax.random.PRNGKey(0), IDS)
    with pytest.raises(LayerShapeError, match=r"ReversibleEmbedding 'tok': with `reverse=True` "
                       r"expected inputs whose last axis is output_dim=4, received input of "
                       r"shape \(2, 5\)"):
        layer.apply(v, np.zeros((2, 5), "float32"), reverse=True)
    layer.variables = v
    with pytest.raises(AttributeError, match="'tok' ties its weights, so it has no "
                       "`reverse_embeddings`"):
        _ = layer.reverse_embeddings


# ----------------------------------------------------------------- STFTSpectrogram --
STFT_KWARGS = [
    dict(mode="log"),
    dict(mode="magnitude", padding="same"),
    dict(mode="psd", data_format="channels_first"),
    dict(mode="real", expand_dims=True),
    dict(mode="imag", data_format="channels_first", expand_dims=True, padding="same"),
    dict(mode="angle"),
    dict(mode="stft", data_format="channels_first"),
    dict(mode="log", window="hamming", periodic=True, scaling="spectrum", fft_length=32,
         frame_step=3),
    dict(mode="magnitude", window=None, scaling=None, expand_dims=True),
]


@pytest.fixture(scope="module")
def signal():
    return np.random.default_rng(0).standard_normal((2, 40, 3)).astype("float32")


@pytest.mark.parametrize("kwargs", STFT_KWARGS, ids=str)
def test_stft_spectrogram_matches_keras(keras, signal, kwargs):
    kwargs = {"frame_length": 12, "frame_step": 4, **kwargs}
    x = signal if kwargs.get("data_format") != "channels_first" else signal.transpose(0, 2, 1)
    klayer = keras.layers.STFTSpectrogram(**kwargs)
    expected = np.asarray(klayer(x))
    layer = STFTSpectrogram(**kwargs)
    v = layer.init(jax.random.PRNGKey(0), x)
    # The kernels are built from the window alone: equal to Keras' without moving weights.
    assert list(v["params"]) == [w.path.split("/")[-1] for w in klayer.weights]
    for got, want in zip(v["params"].values(), klayer.get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
    got = layer.apply(v, x)[0]
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)


def test_stft_spectrogram_weights_are_trainable_and_jit(signal):
    layer = STFTSpectrogram(mode="log", frame_length=8, frame_step=4)
    v = layer.init(jax.random.PRNGKey(0), signal)
    layer.variables = v
    assert [w.name for w in layer.trainable_weights] == ["real_kernel", "imag_kernel"]
    assert layer.get_weights()[0].shape == (8, 1, 5)
    fn = lambda p: jnp.sum(layer.apply({"params": p, "state": {}}, signal)[0])  # noqa: E731
    grads = jax.grad(fn)(v["params"])
    assert all(float(jnp.abs(g).sum()) > 0 for g in grads.values())
    np.testing.assert_allclose(jax.jit(fn)(v["params"]), fn(v["params"]), rtol=1e-5)
    frozen = STFTSpectrogram(frame_length=8, trainable=False)
    frozen(signal)
    assert frozen.trainable_weights == [] and len(frozen.non_trainable_weights) == 2


def test_stft_spectrogram_config_round_trip(keras):
    kwargs = dict(mode="psd", frame_length=16, frame_step=5, fft_length=32, window="hamming",
                  periodic=True, scaling="spectrum", padding="same", expand_dims=True,
                  data_format="channels_first")
    layer = STFTSpectrogram(**kwargs)
    config = layer.get_config()
    assert STFTSpectrogram.from_config(config).get_config() == config
    kconfig = keras.layers.STFTSpectrogram(**kwargs).get_config()
    assert {k: config[k] for k in kwargs} == {k: kconfig[k] for k in kwargs}
    assert STFTSpectrogram.from_config(kconfig).get_config()["mode"] == "psd"


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(frame_length=8, frame_step=9), ValueError,
     (r"STFTSpectrogram: `frame_step` must be a positive integer not greater than "
      r"`frame_length`. Received: frame_step=9, frame_length=8")),
    (dict(frame_length=8, frame_step=0), ValueError, "frame_step=0"),
    (dict(frame_length=0), ValueError,
     r"`frame_length` must be a positive integer. Received: frame_length=0"),
    (dict(frame_length=16, fft_length=8), ValueError,
     (r"`fft_length` must be an integer not less than `frame_length`. Received: fft_length=8, "
      r"frame_length=16")),
    (dict(mode="logg"), UnknownIdentifierError,
     r"Unknown STFTSpectrogram mode identifier: 'logg'. Did you mean: 'log'"),
    (dict(scaling="dens"), UnknownIdentifierError, "STFTSpectrogram scaling.*'density'"),
    (dict(padding="causal"), UnknownIdentifierError, "STFTSpectrogram padding.*same, valid"),
    (dict(window="hannn"), ValueError, r"STFTSpectrogram: invalid `window`.*'hann'"),
    (dict(data_format="nchw"), UnknownIdentifierError, "data_format"),
])
def test_stft_spectrogram_argument_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        STFTSpectrogram(**kwargs)


def test_stft_spectrogram_input_errors_and_warning(signal):
    with pytest.warns(UserWarning, match="`fft_length` is recommended to be a power of two. "
                      "Received fft_length=20"):
        STFTSpectrogram(frame_length=16, fft_length=20)
    layer = STFTSpectrogram(frame_length=8, name="spec")
    v = layer.init(jax.random.PRNGKey(0), signal)
    with pytest.raises(LayerShapeError, match=r"STFTSpectrogram 'spec': expected rank 3, "
                       r"received input of shape \(2, 40\)"):
        layer.apply(v, signal[..., 0])
    with pytest.raises(TypeError, match="STFTSpectrogram 'spec': expected float16, float32 or "
                       "float64 inputs, received int32"):
        layer.forward(v["params"], {}, np.ones((2, 40, 3), "int32"))


# ------------------------------------------------------------------ MelSpectrogram --
MEL_CASES = [
    (dict(), (2, 2048)),
    (dict(fft_length=64, sequence_stride=16, num_mel_bins=10, sampling_rate=8000), (3, 300)),
    (dict(fft_length=64, sequence_stride=16, num_mel_bins=10, sampling_rate=8000), (300,)),
    (dict(fft_length=64, sequence_length=40, sequence_stride=20, window="hamming",
          power_to_db=False, mag_exp=1.0, min_freq=100.0, max_freq=3000), (2, 256)),
    (dict(fft_length=32, sequence_stride=8, num_mel_bins=6, top_db=20.0, ref_power=2.0,
          window=None), (2, 128)),
]


@pytest.mark.parametrize("kwargs, shape", MEL_CASES, ids=str)
def test_mel_spectrogram_matches_keras(keras, kwargs, shape):
    x = np.random.default_rng(0).standard_normal(shape).astype("float32")
    expected = np.asarray(keras.layers.MelSpectrogram(**kwargs)(x))
    layer = MelSpectrogram(**kwargs)
    got = layer(x)
    assert got.shape == expected.shape and got.dtype == jnp.float32
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
    assert layer.get_weights() == []


def test_mel_weight_matrix_matches_keras(keras):
    want = keras.layers.MelSpectrogram().linear_to_mel_weight_matrix(8, 33, 8000, 50.0, 3500.0)
    np.testing.assert_allclose(linear_to_mel_weight_matrix(8, 33, 8000, 50.0, 3500.0), want,
                               rtol=1e-5, atol=1e-6)


def test_mel_spectrogram_jit_and_config(keras):
    kwargs = dict(fft_length=32, sequence_stride=8, num_mel_bins=6, sampling_rate=4000,
                  min_freq=10.0, top_db=40.0)
    layer = MelSpectrogram(**kwargs)
    x = np.random.default_rng(1).standard_normal((2, 96)).astype("float32")
    v = layer.init(jax.random.PRNGKey(0), x)
    np.testing.assert_allclose(jax.jit(lambda x: layer.apply(v, x)[0])(x), layer.apply(v, x)[0],
                               rtol=1e-5, atol=1e-5)
    config = layer.get_config()
    assert MelSpectrogram.from_config(config).get_config() == config
    kconfig = keras.layers.MelSpectrogram(**kwargs).get_config()
    assert {k: config[k] for k in kconfig if k not in ("name", "dtype")} == \
        {k: kconfig[k] for k in kconfig if k not in ("name", "dtype")}


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(fft_length=32, sequence_length=64), ValueError,
     (r"MelSpectrogram: `fft_length` must be greater than or equal to `sequence_length`. "
      r"Received: sequence_length=64, fft_length=32")),
    (dict(window="hanning"), UnknownIdentifierError,
     "Unknown MelSpectrogram window identifier: 'hanning'. Did you mean: 'hann'"),
    (dict(num_mel_bins=0), ValueError,
     r"`num_mel_bins` must be a positive integer. Received: num_mel_bins=0"),
    (dict(sequence_stride=2.5), ValueError, "`sequence_stride` must be a positive integer"),
])
def test_mel_spectrogram_argument_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        MelSpectrogram(**kwargs)


def test_mel_spectrogram_wrong_rank():
    layer = MelSpectrogram(fft_length=32, sequence_stride=8, name="mel")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(LayerShapeError, match=r"MelSpectrogram 'mel': expected rank >= 1 "
                           r"and rank <= 2, received input of shape \(1, 2, 64\)"):
            layer(np.zeros((1, 2, 64), "float32"))
