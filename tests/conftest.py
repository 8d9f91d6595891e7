"""Pinned test configuration: Keras on the JAX backend, float32 matmuls, fixed keys."""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import jax  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

jax.config.update("jax_default_matmul_precision", "highest")


@pytest.fixture(scope="session")
def keras():
    """Keras 3 on the JAX backend: the reference implementation (tests only)."""
    import keras as _keras

    assert _keras.backend.backend() == "jax", "set KERAS_BACKEND=jax before importing keras"
    return _keras


@pytest.fixture
def rng():
    """A fixed NumPy generator, so test data is the same on every run."""
    return np.random.default_rng(0)


@pytest.fixture
def key():
    return jax.random.PRNGKey(0)
