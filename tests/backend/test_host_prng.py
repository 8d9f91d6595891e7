"""host_prng and host_constants give exactly what jax.random / jnp give, without compiling."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from kerax.backend import host_constants, host_prng

KEYS = [jax.random.PRNGKey(0), jax.random.PRNGKey(42),
        jnp.array([123456789, 987654321], jnp.uint32), np.array([7, 0], np.uint32)]


def _same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b)


@pytest.mark.parametrize("seed", [0, 1, 12345, 2**31 - 1, 2**32 - 1])
def test_prng_key(seed):
    assert _same(host_prng.prng_key(seed), jax.random.PRNGKey(seed))


@pytest.mark.parametrize("key", KEYS, ids=range(len(KEYS)))
def test_fold_in_and_split(key):
    for d in [0, 1, 7, 2**31 - 1, 2**32 - 1]:
        assert _same(host_prng.fold_in(key, d), jax.random.fold_in(key, d)), d
    for n in [1, 2, 3, 10]:
        assert _same(host_prng.split(key, n), jax.random.split(key, n)), n
    a, b = host_prng.split(key)
    assert isinstance(a, np.ndarray) and a.shape == (2,)


@pytest.mark.parametrize("key", KEYS, ids=range(len(KEYS)))
def test_uniform_bitwise(key):
    cases = [((3,), 0.0, 1.0), ((5, 7), -0.3, 0.3), ((784, 512), -0.08, 0.08),
             ((3, 3, 1, 32), -1.5, 2.0), ((), 0, 1), ((0, 4), 0.0, 1.0),
             ((300,), 1e-3, 1e3)]
    for shape, lo, hi in cases:
        want = jax.random.uniform(key, shape, jnp.float32, lo, hi)
        got = host_prng.uniform(key, shape, jnp.float32, lo, hi)
        assert isinstance(got, jax.Array)
        assert _same(got, want), (shape, lo, hi)


def test_uniform_spans_chunks(monkeypatch):
    monkeypatch.setattr(host_prng, "_CHUNK", 1000)
    key = KEYS[1]
    want = jax.random.uniform(key, (45, 101), jnp.float32, -2.0, 2.0)
    assert _same(host_prng.uniform(key, (45, 101), jnp.float32, -2.0, 2.0), want)


def test_large_draws_go_to_jax(monkeypatch):
    monkeypatch.setattr(host_prng, "HOST_MAX_ELEMENTS", 10)
    calls = []
    real = jax.random.uniform
    monkeypatch.setattr(jax.random, "uniform", lambda *a, **k: calls.append(a[1]) or real(*a, **k))
    key = KEYS[2]
    assert _same(host_prng.uniform(key, (3, 4)), real(key, (3, 4)))
    assert calls == [(3, 4)]
    host_prng.uniform(key, (2, 5))
    assert calls == [(3, 4)]  # 10 values: still on the host


def test_traced_and_unsupported_fall_back_to_jax():
    key = KEYS[0]
    # Inside jit the key is traced: the jax functions run, and agree with the host ones.
    jitted = jax.jit(lambda k: (host_prng.fold_in(k, 3), host_prng.split(k, 4),
                                host_prng.uniform(k, (2, 3), jnp.float32, -1.0, 1.0)))(key)
    eager = (host_prng.fold_in(key, 3), host_prng.split(key, 4),
             host_prng.uniform(key, (2, 3), jnp.float32, -1.0, 1.0))
    for a, b in zip(jitted, eager):
        assert _same(a, b)
    # float16, array bounds and typed keys are left to jax.random.
    assert host_prng.uniform(key, (4,), jnp.float16).dtype == jnp.float16
    bounds = host_prng.uniform(key, (2,), jnp.float32, jnp.zeros(2), jnp.ones(2))
    assert _same(bounds, jax.random.uniform(key, (2,), jnp.float32, jnp.zeros(2), jnp.ones(2)))
    typed = jax.random.key(0)
    assert _same(jax.random.key_data(host_prng.fold_in(typed, 2)),
                 jax.random.key_data(jax.random.fold_in(typed, 2)))


def test_model_build_compiles_nothing_for_keys_and_uniform_draws():
    import kerax

    model = kerax.Sequential([kerax.Input((5,)), kerax.layers.Dense(7, activation="relu"),
                              kerax.layers.Dense(3)])
    key = host_prng.prng_key(3)
    with jax.log_compiles(True), _count_compiles() as compiles:
        eager = model.init(key, jax.ShapeDtypeStruct((2, 5), jnp.float32))
    assert compiles == [], compiles
    # And the host-built weights equal the ones built by jax under jit.
    traced = jax.jit(lambda k: model.init(k, jax.ShapeDtypeStruct((2, 5), jnp.float32)))(key)
    jax.tree_util.tree_map(lambda a, b: np.testing.assert_array_equal(a, b), eager, traced)


def test_host_constants():
    x = jnp.ones((2, 3), jnp.bfloat16)
    for value in (0, 1, 0.5):
        assert _same(host_constants.full_like(x, value), jnp.full_like(x, value))
    assert _same(host_constants.full((), 0, jnp.int32), jnp.zeros([], jnp.int32))
    assert _same(host_constants.full((4,), 1, "float32"), jnp.ones(4))
    assert _same(jax.jit(lambda a: host_constants.full_like(a, 2))(x), jnp.full_like(x, 2))


class _count_compiles:
    """Collects the names of the XLA programs compiled inside the block."""

    def __enter__(self):
        import logging

        self.names, self.logger = [], logging.getLogger("jax._src.dispatch")
        names = self.names

        class Handler(logging.Handler):
            def emit(self, record):
                msg = record.getMessage()
                if msg.startswith("Finished XLA compilation of "):
                    names.append(msg.split(" ")[4])

        self.handler = Handler()
        self.logger.addHandler(self.handler)
        return self.names

    def __exit__(self, *exc):
        self.logger.removeHandler(self.handler)


def test_non_partitionable_threefry_falls_back_to_jax():
    key, before = KEYS[1], jax.config.jax_threefry_partitionable
    jax.config.update("jax_threefry_partitionable", False)
    try:
        # This mode splits and draws differently; host_prng hands it to jax.random.
        assert _same(host_prng.split(key, 3), jax.random.split(key, 3))
        assert _same(host_prng.uniform(key, (4, 5)), jax.random.uniform(key, (4, 5)))
    finally:
        jax.config.update("jax_threefry_partitionable", before)


def _jax_scaled(kind, key, shape, dtype, mean, stddev):
    if kind == "normal":
        return jax.random.normal(key, shape, dtype) * stddev + mean
    return jax.random.truncated_normal(key, -2.0, 2.0, shape, dtype) * stddev + mean


def _same_bits(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return (a.shape == b.shape and a.dtype == b.dtype
            and np.array_equal(a.reshape(-1).view(np.uint8), b.reshape(-1).view(np.uint8)))


NORMAL_CASES = [  # shape, mean, stddev: a scalar, empty, odd sizes, a second size bucket
    ((), 0.0, 1.0), ((0, 4), 0.0, 1.0), ((3,), 1.0, 2.0), ((5, 7), -0.3, 0.05),
    ((3, 3, 3, 17), 0.0, 0.27216552697590868), ((257, 257), 0, 3)]


@pytest.mark.parametrize("kind", ["normal", "truncated_normal"])
@pytest.mark.parametrize("key", KEYS[1:3], ids=["jax", "numpy"])
def test_normal_draws_bitwise(kind, key):
    for shape, mean, stddev in NORMAL_CASES:
        got = getattr(host_prng, kind)(key, shape, jnp.float32, mean, stddev)
        assert isinstance(got, jax.Array)
        assert _same_bits(got, _jax_scaled(kind, key, shape, jnp.float32, mean, stddev)), shape


@pytest.mark.parametrize("kind", ["normal", "truncated_normal"])
@pytest.mark.parametrize("dtype", [jnp.bfloat16, jnp.float16])
def test_normal_draws_bitwise_16_bit(kind, dtype):
    key = KEYS[3]
    for shape, mean, stddev in [((5, 7), 0.0, 0.1234567), ((260, 3, 101), 1.0, 0.7)]:
        got = getattr(host_prng, kind)(key, shape, dtype, mean, stddev)
        assert _same_bits(got, _jax_scaled(kind, key, shape, dtype, mean, stddev)), shape


@pytest.mark.slow
@pytest.mark.parametrize("dtype", [jnp.float32, jnp.bfloat16, jnp.float16])
def test_normal_draws_bitwise_many_shapes(dtype):
    # Bucket edges (65536 and 65537 values), model kernels, and a draw of a million values.
    shapes = [(1,), (65536,), (65537,), (3, 3, 1, 1152), (1, 1, 320, 1280), (1000, 1001)]
    for kind in ("normal", "truncated_normal"):
        for shape in shapes:
            got = getattr(host_prng, kind)(KEYS[2], shape, dtype, 0.0, 0.0625)
            assert _same_bits(got, _jax_scaled(kind, KEYS[2], shape, dtype, 0.0, 0.0625))


def test_normal_draws_compile_once_per_size_bucket(monkeypatch):
    monkeypatch.setattr(host_prng, "_BUCKET_MIN", 64)
    host_prng._bucketed_draw.cache_clear()
    key = KEYS[0]
    shapes = [(3, 3, 2, 5), (7,), (64,), (8, 8), (1, 1, 9, 7), (2, 33), (65,), (128,)]
    with jax.log_compiles(True), _count_compiles() as compiles:
        for shape in shapes:
            host_prng.truncated_normal(key, shape, stddev=0.1)
            host_prng.normal(key, shape, mean=1.0, stddev=0.5)
    # Sizes 90, 7, 64 and 64, 63, 66, 65, 128 fall in the buckets 64 and 128: four programs
    # (two sizes, two distributions), and the scaling compiles nothing.
    assert sorted(compiles) == ["jit(normal_draw)"] * 2 + ["jit(truncated_normal_draw)"] * 2
    for shape in shapes[:3]:  # a small bucket gives the same values as the default one
        assert _same_bits(host_prng.normal(key, shape, mean=1.0, stddev=0.5),
                          _jax_scaled("normal", key, shape, jnp.float32, 1.0, 0.5))
    host_prng._bucketed_draw.cache_clear()


def test_normal_draws_go_to_jax_when_not_reproducible(monkeypatch):
    key = KEYS[2]
    traced = jax.jit(lambda k: host_prng.truncated_normal(k, (2, 3), stddev=0.5))(key)
    assert _same_bits(traced, host_prng.truncated_normal(key, (2, 3), stddev=0.5))
    # A concrete key inside a trace stays in the trace (no host round trip of a tracer).
    inside = jax.jit(lambda: host_prng.normal(np.array([7, 0], np.uint32), (3,)))()
    assert _same_bits(inside, host_prng.normal(np.array([7, 0], np.uint32), (3,)))
    # NumPy-scalar scales promote as JAX promotes them, and are left to it.
    stddev = np.float32(0.5)
    assert _same_bits(host_prng.normal(key, (4,), jnp.bfloat16, 0.0, stddev),
                      jax.random.normal(key, (4,), jnp.bfloat16) * stddev + 0.0)
    monkeypatch.setattr(host_prng, "HOST_MAX_ELEMENTS", 10)
    monkeypatch.setattr(host_prng, "_bucketed_draw", None)  # would fail if used
    assert _same_bits(host_prng.normal(key, (3, 4)), _jax_scaled("normal", key, (3, 4),
                                                                 jnp.float32, 0.0, 1.0))


def test_non_partitionable_threefry_normal_draws_are_per_shape():
    key, before = KEYS[1], jax.config.jax_threefry_partitionable
    jax.config.update("jax_threefry_partitionable", False)
    try:
        # In this mode a longer draw does not start with a shorter one: no buckets, and
        # the draw is jax.random's own.
        assert not np.array_equal(jax.random.normal(key, (64,))[:5], jax.random.normal(key, (5,)))
        for kind in ("normal", "truncated_normal"):
            assert _same_bits(getattr(host_prng, kind)(key, (5,), jnp.float32, 0.0, 0.1),
                              _jax_scaled(kind, key, (5,), jnp.float32, 0.0, 0.1))
    finally:
        jax.config.update("jax_threefry_partitionable", before)
