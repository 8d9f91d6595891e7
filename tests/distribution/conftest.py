"""Distribution tests need 8 devices: run them with
`XLA_FLAGS=--xla_force_host_platform_device_count=8 python -m pytest tests/distribution`
(tests/test_distribution_subprocess.py does this from the normal test run)."""

import jax
import numpy as np
import pytest

import kerax
from kerax import distribution as kd


def pytest_collection_modifyitems(config, items):
    if jax.device_count() >= 8:
        return
    skip = pytest.mark.skip(reason="needs 8 devices (XLA_FLAGS="
                            "--xla_force_host_platform_device_count=8); see "
                            "tests/test_distribution_subprocess.py")
    for item in items:
        if "tests/distribution" in str(item.fspath).replace("\\", "/"):
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def no_distribution():
    kd.set_distribution(None)
    yield
    kd.set_distribution(None)


def make_model(hidden=32, built=True, seed=0, optimizer="adam", steps_per_execution="auto"):
    kerax.utils.set_random_seed(seed)
    layers = [kerax.layers.Dense(hidden, activation="relu"), kerax.layers.Dense(8)]
    model = kerax.Sequential(([kerax.Input((16,))] if built else []) + layers)
    model.compile(optimizer=optimizer, loss="mse", metrics=["mae"],
                  steps_per_execution=steps_per_execution)
    return model


@pytest.fixture(scope="session")
def data():
    rng = np.random.default_rng(0)
    return (rng.normal(size=(96, 16)).astype("float32"),
            rng.normal(size=(96, 8)).astype("float32"))


@pytest.fixture(scope="session")
def reference(data):
    """Single-device training: initial weights, final weights, history, eval, predict."""
    kd.set_distribution(None)
    x, y = data
    model = make_model()
    w0 = model.get_weights()
    history = model.fit(x, y, batch_size=16, epochs=3, verbose=0, shuffle=False)
    return {"w0": w0, "weights": model.get_weights(), "loss": history.history["loss"],
            "eval": model.evaluate(x, y, verbose=0, return_dict=True),
            "predict": model.predict(x, verbose=0)}
