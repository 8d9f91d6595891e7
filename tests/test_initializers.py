"""kerax.initializers against keras.initializers: names, values, seeds, configs, statistics."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kerax
from kerax import errors
from kerax import initializers as I
from kerax.backend import host_prng, random_state

SHAPES = [(3, 5), (2, 3, 4)]  # rows < cols and rows > cols (Orthogonal)

DETERMINISTIC = [
    ("Zeros", {}),
    ("Ones", {}),
    ("Constant", {}),
    ("Constant", {"value": 2.5}),
    ("Identity", {}),
    ("Identity", {"gain": 3.0}),
]
STFT_CASES = [
    {},
    {"window": None},
    {"side": "imag", "scaling": "spectrum", "periodic": True},
    {"window": "hamming", "scaling": None},
]
RANDOM = [
    ("RandomNormal", {}),
    ("RandomNormal", {"mean": 1.0, "stddev": 2.0}),
    ("TruncatedNormal", {}),
    ("TruncatedNormal", {"mean": -1.0, "stddev": 0.5}),
    ("RandomUniform", {}),
    ("RandomUniform", {"minval": 2.0, "maxval": 5.0}),
    ("VarianceScaling", {}),
    ("VarianceScaling", {"scale": 2.0, "mode": "fan_out", "distribution": "uniform"}),
    ("VarianceScaling", {"mode": "fan_avg", "distribution": "untruncated_normal"}),
    ("VarianceScaling", {"distribution": "normal", "input_axes": (0,), "output_axes": (1,)}),
    ("GlorotUniform", {}),
    ("GlorotNormal", {}),
    ("HeUniform", {}),
    ("HeNormal", {}),
    ("LecunUniform", {}),
    ("LecunNormal", {}),
    ("Orthogonal", {}),
    ("Orthogonal", {"gain": 2.0}),
]


def _ids(cases):
    return [f"{n}-{kw}" for n, kw in cases]


def test_every_keras_initializer_exists(keras):
    public = {n for n in dir(keras.initializers) if not n.startswith("_")}
    assert sorted(n for n in public if not hasattr(I, n)) == []


def test_name_table_matches_keras(keras):
    from keras.src.initializers import ALL_OBJECTS_DICT

    assert set(I.ALL) | set(I.ALIASES) == set(ALL_OBJECTS_DICT)
    for name, cls in ALL_OBJECTS_DICT.items():
        assert (I.ALL.get(name) or I.ALIASES[name]).__name__ == cls.__name__, name


@pytest.mark.parametrize("name,kwargs", DETERMINISTIC, ids=_ids(DETERMINISTIC))
@pytest.mark.parametrize("shape", [(3, 5), (4, 4)])
def test_deterministic_values_equal_keras(keras, name, kwargs, shape):
    expected = getattr(keras.initializers, name)(**kwargs)(shape)
    got = getattr(I, name)(**kwargs)(shape)
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("kwargs", STFT_CASES)
def test_stft_equals_keras(keras, kwargs):
    expected = keras.initializers.STFT(**kwargs)((8, 1, 5))
    np.testing.assert_allclose(I.STFT(**kwargs)((8, 1, 5)), expected, rtol=1e-6, atol=1e-7)


def test_constant_array_value_and_dtype(keras):
    value = np.arange(6.0).reshape(2, 3)
    got = I.Constant(value)((2, 3), dtype="float16")
    assert got.dtype == jnp.float16
    np.testing.assert_array_equal(got, keras.initializers.Constant(value)((2, 3), dtype="float16"))
    assert I.Constant(value).get_config() == keras.initializers.Constant(value).get_config()
    np.testing.assert_array_equal(I.Constant.from_config(I.Constant(value).get_config()).value, value)


@pytest.mark.parametrize("name,kwargs", RANDOM, ids=_ids(RANDOM))
@pytest.mark.parametrize("shape", SHAPES)
def test_seeded_values_equal_keras(keras, name, kwargs, shape):
    expected = getattr(keras.initializers, name)(seed=7, **kwargs)(shape)
    got = getattr(I, name)(seed=7, **kwargs)(shape)
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("name,kwargs", RANDOM + DETERMINISTIC, ids=_ids(RANDOM + DETERMINISTIC))
def test_config_equals_keras(keras, name, kwargs):
    seed = {"seed": 3} if name not in dict(DETERMINISTIC) else {}
    expected = getattr(keras.initializers, name)(**seed, **kwargs).get_config()
    init = getattr(I, name)(**seed, **kwargs)
    if name == "Identity":  # Keras forgets `gain` in its config; kerax keeps it.
        expected = {"gain": kwargs.get("gain", 1.0)}
    assert init.get_config() == expected
    clone = I.deserialize(I.serialize(init))
    assert type(clone) is type(init) and clone.get_config() == expected
    assert init.clone().get_config() == expected


@pytest.mark.parametrize("kwargs", STFT_CASES)
def test_stft_config_equals_keras(keras, kwargs):
    assert I.STFT(**kwargs).get_config() == keras.initializers.STFT(**kwargs).get_config()


def test_unseeded_config_has_seed_none(keras):
    assert I.RandomNormal().get_config() == keras.initializers.RandomNormal().get_config()


@pytest.mark.parametrize(
    "shape,axes",
    [((), {}), ((7,), {}), ((3, 5), {}), ((3, 3, 8, 16), {}), ((2, 3, 4, 5), {}),
     ((2, 3, 4), {"input_axes": (0, 1), "output_axes": (2,)})],
)
def test_compute_fans_equals_keras(shape, axes):
    from keras.src.initializers.random_initializers import compute_fans

    assert I.compute_fans(shape, **axes) == compute_fans(shape, **axes)


NORMALS = [
    ("RandomNormal", {"mean": 1.0, "stddev": 2.0}),
    ("TruncatedNormal", {"mean": -1.0, "stddev": 0.5}),
    ("VarianceScaling", {"mode": "fan_avg", "distribution": "untruncated_normal"}),
    ("GlorotNormal", {}),
    ("HeNormal", {}),
    ("LecunNormal", {}),
]


@pytest.mark.parametrize("name,kwargs", NORMALS, ids=_ids(NORMALS))
@pytest.mark.parametrize("shape,dtype", [((3, 3, 7, 33), "float32"), ((257, 257), "float32"),
                                         ((5, 1, 9), "bfloat16"), ((4, 11), "float16")])
def test_seeded_normals_equal_keras_at_any_size_and_float_dtype(keras, name, kwargs, shape,
                                                                   dtype):
    # Normal draws are made at power-of-two sizes (host_prng): 257 * 257 is past the first.
    expected = np.asarray(getattr(keras.initializers, name)(seed=3, **kwargs)(shape, dtype))
    got = np.asarray(getattr(I, name)(seed=3, **kwargs)(shape, dtype))
    assert got.dtype == expected.dtype and got.shape == expected.shape
    np.testing.assert_array_equal(got.view(np.uint8), expected.view(np.uint8))


def test_normal_initializers_compile_two_programs_for_any_number_of_shapes(caplog):
    host_prng._bucketed_draw.cache_clear()
    shapes = [(3, 3, 3, 32), (1, 1, 32, 8), (3, 3, 1, 96), (5, 5, 1, 144), (11,), (7, 13)]
    inits = [I.HeNormal(), I.GlorotNormal(seed=2), I.LecunNormal(), I.TruncatedNormal(),
             I.RandomNormal(mean=0.5),
             I.VarianceScaling(distribution="untruncated_normal", mode="fan_out")]
    with jax.log_compiles(True):
        for init in inits:
            for shape in shapes:
                init(shape, key=host_prng.prng_key(1))
    compiled = [r.getMessage().split(" ")[4] for r in caplog.records
                if r.getMessage().startswith("Finished XLA compilation of ")]
    # One draw program per distribution (all these sizes share one size bucket); the
    # `* stddev + mean` runs on the host.
    assert sorted(compiled) == ["jit(normal_draw)", "jit(truncated_normal_draw)"]


STAT_SHAPE = (400, 125)  # 50,000 draws


@pytest.mark.parametrize("name,kwargs", RANDOM[:-2], ids=_ids(RANDOM[:-2]))
def test_keyed_distribution_matches_keras(keras, name, kwargs):
    """With a layer's key the numbers differ from Keras', but not the distribution."""
    ref = np.asarray(getattr(keras.initializers, name)(seed=11, **kwargs)(STAT_SHAPE))
    got = np.asarray(getattr(I, name)(**kwargs)(STAT_SHAPE, key=jax.random.PRNGKey(5)))
    assert not np.array_equal(got, ref)
    spread = ref.std()
    assert abs(got.mean() - ref.mean()) < 0.03 * spread + 1e-6
    assert abs(got.std() - ref.std()) < 0.02 * spread
    # Bounds: uniform draws share Keras' interval, truncated normals its cut-off.
    bounded = "Uniform" in name or "Truncated" in name or kwargs.get("distribution") == "uniform" or (
        name in ("VarianceScaling", "GlorotNormal", "HeNormal", "LecunNormal")
        and kwargs.get("distribution", "truncated_normal") in ("truncated_normal", "normal"))
    if bounded:
        assert ref.min() - 0.01 * spread <= got.min() and got.max() <= ref.max() + 0.01 * spread


def test_orthogonal_with_key_is_orthogonal():
    w = I.Orthogonal(gain=2.0)((6, 4), key=jax.random.PRNGKey(0))
    np.testing.assert_allclose(w.T @ w, 4.0 * np.eye(4), atol=1e-4)
    w = I.Orthogonal()((2, 2, 5), key=jax.random.PRNGKey(0)).reshape(4, 5)
    np.testing.assert_allclose(w @ w.T, np.eye(4), atol=1e-5)


def test_seed_wins_over_key_and_repeats_like_keras(keras):
    init = I.RandomNormal(seed=7)
    np.testing.assert_array_equal(init((4,)), init((4,)))  # Keras: same values every call
    # A seeded initializer ignores the layer's key, so seeded layers match Keras exactly.
    np.testing.assert_array_equal(init((4,), key=jax.random.PRNGKey(0)), init((4,)))
    unseeded = I.RandomNormal()((4,), key=jax.random.PRNGKey(0))
    np.testing.assert_array_equal(unseeded, I.RandomNormal()((4,), key=jax.random.PRNGKey(0)))
    assert not np.array_equal(unseeded, init((4,)))


def test_unseeded_draws_once_from_the_global_source():
    random_state.set_global_seed(123)
    a = I.GlorotUniform()
    first = a((3, 3))
    np.testing.assert_array_equal(first, a((3, 3)))
    random_state.set_global_seed(123)
    np.testing.assert_array_equal(I.GlorotUniform()((3, 3)), first)


def test_seed_accepts_a_jax_key():
    key = jax.random.PRNGKey(3)
    np.testing.assert_array_equal(I.RandomUniform(seed=key)((5,)), I.RandomUniform()((5,), key=key))


def test_dtype_default_and_explicit():
    assert I.HeNormal(seed=1)((2, 2)).dtype == jnp.float32
    assert I.HeNormal(seed=1)((2, 2), dtype="float16").dtype == jnp.float16
    assert I.Zeros()((2,), dtype="int32").dtype == jnp.int32


@pytest.mark.parametrize("name", sorted(set(I.ALIASES) | set(I.ALL)))
def test_get_by_name_matches_keras(keras, name):
    from keras.src.initializers import ALL_OBJECTS_DICT

    # Keras' own get("constant") fails (Constant.from_config needs "value"); kerax's works.
    assert type(I.get(name)).__name__ == ALL_OBJECTS_DICT[name].__name__


def test_get_accepts_instances_classes_callables_and_arrays(keras):
    init = I.HeNormal(seed=1)
    assert I.get(init) is init
    assert isinstance(I.get(I.Ones), I.Ones)
    fn = lambda shape, dtype=None, key=None: jnp.zeros(shape)  # noqa: E731
    assert I.get(fn) is fn
    assert I.get(None) is None
    value = np.arange(4.0)
    np.testing.assert_array_equal(I.get(value)((4,), "float16"), keras.initializers.get(value)((4,), "float16"))
    assert isinstance(I.get({"class_name": "he_uniform", "config": {"seed": 2}}), I.HeUniform)


def test_get_custom_object_by_name():
    class Twos(I.Initializer):
        def __call__(self, shape, dtype=None, key=None):
            return 2 * jnp.ones(shape)

    # As Keras 3: `deserialize` of a bare name hands back the custom object itself, and
    # `get` instantiates a class it finds.
    assert I.deserialize("Twos", custom_objects={"Twos": Twos}) is Twos
    with kerax.saving.custom_object_scope({"Twos": Twos}):
        assert isinstance(I.get("Twos"), Twos)


@pytest.mark.parametrize(
    "make,match",
    [
        (lambda: I.get("glorot_unifrom"), "Unknown initializer identifier: 'glorot_unifrom'.*Did you mean: 'glorot_uniform'"),
        (lambda: I.get(3), "Could not interpret initializer identifier: 3"),
        (lambda: I.get(np.ones((2,)))((3,)), r"Expected `shape` to be \(2,\).*Received: shape=\(3,\)"),
        (lambda: I.VarianceScaling(scale=0.0), "`scale` must be a positive float. Received: scale=0.0"),
        (lambda: I.VarianceScaling(mode="fan"), "`mode` must be one of.*Received: mode='fan'"),
        (lambda: I.VarianceScaling(distribution="cauchy"), "`distribution` must be one of.*'cauchy'"),
        (lambda: I.Identity()((2, 2, 2)), r"only be used for 2-D matrices. Received: shape=\(2, 2, 2\)"),
        (lambda: I.Orthogonal()((3,)), r"rank 2 or more. Received: shape=\(3,\) of rank 1"),
        (lambda: I.RandomNormal(seed="7"), "RandomNormal: `seed` must be an integer.*Received: seed='7'"),
        (lambda: I.RandomNormal(seed=True), "`seed` must be an integer, not a bool"),
        (lambda: I.STFT(side="both"), "`side` must be 'real' or 'imag'. Received: side='both'"),
        (lambda: I.STFT(scaling="power"), "`scaling` must be None, 'density' or 'spectrum'"),
        (lambda: I.STFT(window=np.ones(3))((4, 1, 3)), r"`window` must have shape \(4,\)"),
    ],
)
def test_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_unknown_name_is_an_unknown_identifier_error():
    with pytest.raises(errors.UnknownIdentifierError, match="Known initializer identifiers"):
        I.deserialize("nope")


def test_base_class_call_says_what_to_implement():
    with pytest.raises(NotImplementedError, match=r"must implement `__call__\(shape"):
        I.Initializer()((2,))


def test_stft_named_window_without_scipy_says_how_to_fix(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "scipy.signal", None)
    with pytest.raises(ImportError, match="needs scipy.*pip install scipy"):
        I.STFT(window="hann")
    assert I.STFT(window=None)((4, 1, 3)).shape == (4, 1, 3)
