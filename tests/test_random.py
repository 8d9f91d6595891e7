"""kerax.random: Keras' signatures and numbers, moments, seeding and SeedGenerator state."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kerax.random as kr

DRAWS = [
    ("normal", ((200, 50),), {"mean": 1.0, "stddev": 2.0}),
    ("uniform", ((200, 50),), {"minval": -1.0, "maxval": 3.0}),
    ("truncated_normal", ((200, 50),), {"stddev": 0.5}),
    ("randint", ((200, 50), 0, 10), {}),
    ("gamma", ((200, 50), 2.0), {}),
    ("beta", ((200, 50), 2.0, 3.0), {}),
    ("binomial", ((200, 50), 10, 0.3), {}),
    ("categorical", (np.log(np.array([[0.2, 0.8], [0.5, 0.5]], "float32")), 500), {}),
    ("shuffle", (np.arange(10),), {}),
    ("dropout", (np.ones((20, 50), "float32"), 0.4), {}),
]


@pytest.mark.parametrize("name,args,kwargs", DRAWS, ids=[d[0] for d in DRAWS])
def test_same_numbers_as_keras_for_int_seed(keras, name, args, kwargs):
    ours = getattr(kr, name)(*args, **kwargs, seed=7)
    theirs = getattr(keras.random, name)(*args, **kwargs, seed=7)
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)


def test_seed_generator_sequence_matches_keras(keras):
    ours, theirs = kr.SeedGenerator(5), keras.random.SeedGenerator(5)
    for _ in range(3):
        np.testing.assert_allclose(kr.normal((3,), seed=ours),
                                   keras.random.normal((3,), seed=theirs))


@pytest.mark.parametrize(
    "name,args,mean,var",
    [("normal", ((), 1.0, 2.0), 1.0, 4.0), ("uniform", ((), -1.0, 3.0), 1.0, 16 / 12),
     ("gamma", ((), 2.0), 2.0, 2.0), ("beta", ((), 2.0, 3.0), 0.4, 6 / 150),
     ("binomial", ((), 10, 0.3), 3.0, 2.1),
     ("truncated_normal", ((),), 0.0, 0.7737)],
)
def test_moments(name, args, mean, var):
    shape = (20000,)
    x = np.asarray(getattr(kr, name)(shape, *args[1:], seed=3))
    assert abs(x.mean() - mean) < 0.05 * max(1.0, abs(mean))
    assert abs(x.var() - var) < 0.06 * max(1.0, var)


def test_dtypes_and_shapes():
    assert kr.normal((2, 3)).dtype == jnp.float32
    assert kr.uniform((2,), dtype="float16").dtype == jnp.float16
    assert kr.randint((4,), 0, 3, dtype="int16").dtype == jnp.int16
    assert kr.categorical(jnp.zeros((3, 4)), 5).shape == (3, 5)
    assert kr.dropout(jnp.ones((4, 3)), 0.5, noise_shape=(None, 1), seed=0).shape == (4, 3)


def test_dropout_noise_shape_broadcasts():
    out = np.asarray(kr.dropout(jnp.ones((6, 5)), 0.5, noise_shape=(6, 1), seed=1))
    assert all(len(set(row)) == 1 for row in out)
    assert set(np.unique(out)) <= {0.0, 2.0}


def test_reproducible_and_different():
    a, b = kr.normal((4,), seed=11), kr.normal((4,), seed=11)
    np.testing.assert_array_equal(a, b)
    gen = kr.SeedGenerator(11)
    c, d = kr.normal((4,), seed=gen), kr.normal((4,), seed=gen)
    assert not np.allclose(c, d)
    np.testing.assert_array_equal(c, a)  # the first draw of SeedGenerator(s) is seed s


def test_unseeded_uses_global_source():
    import kerax

    kerax.utils.set_random_seed(1)
    a = kr.uniform((3,))
    kerax.utils.set_random_seed(1)
    np.testing.assert_array_equal(a, kr.uniform((3,)))
    assert not np.allclose(a, kr.uniform((3,)))


def test_raw_jax_key_is_used_as_is():
    key = jax.random.PRNGKey(4)
    np.testing.assert_array_equal(kr.normal((3,), seed=key), jax.random.normal(key, (3,)))


def test_pure_next_seed_under_jit():
    gen = kr.SeedGenerator(9)

    @jax.jit
    def draw(state):
        seed, state = kr.next_seed(state)
        return kr.normal((2,), seed=seed), state

    x1, state = draw(gen.state)
    x2, _ = draw(state)
    np.testing.assert_array_equal(x1, kr.normal((2,), seed=gen))
    np.testing.assert_array_equal(x2, kr.normal((2,), seed=gen))
    assert gen.state.shape == (2,) and gen.state.dtype == jnp.uint32


def test_seed_generator_config_round_trip():
    gen = kr.SeedGenerator.from_config(kr.SeedGenerator(3).get_config())
    assert gen.state.tolist() == [3, 0]


def test_errors():
    with pytest.raises(ValueError, match="must be an integer, a `kerax.random.SeedGenerator`"):
        kr.normal((2,), seed="abc")
    with pytest.raises(ValueError, match="SeedGenerator's `seed` must be an integer"):
        kr.SeedGenerator(1.5)
    with pytest.raises(ValueError, match="Unrecognized keyword arguments"):
        kr.SeedGenerator(1, foo=2)
    with pytest.raises(ValueError, match="requires a floating point `dtype`"):
        kr.uniform((2,), dtype="int32")
    with pytest.raises(ValueError, match="requires an integer `dtype`"):
        kr.randint((2,), 0, 3, dtype="float32")
