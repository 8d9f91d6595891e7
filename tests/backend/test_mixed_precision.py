import jax.numpy as jnp
import numpy as np
import pytest
from sklearn.datasets import load_digits

import kerax


@pytest.fixture
def policy():
    yield kerax.mixed_precision
    kerax.mixed_precision.set_global_policy("float32")


def test_policy_matches_keras(keras):
    for name in ("float32", "bfloat16", "mixed_bfloat16", "mixed_float16", "float16"):
        ours, theirs = kerax.DTypePolicy(name), keras.DTypePolicy(name)
        assert (ours.compute_dtype, ours.variable_dtype) == \
            (theirs.compute_dtype, theirs.variable_dtype)
    with pytest.raises(ValueError, match="Cannot convert 'mixed_int8'"):
        kerax.DTypePolicy("mixed_int8")


def _digits():
    x, y = load_digits(return_X_y=True)
    return (x / 16).astype("float32"), y


def _mlp():
    return kerax.Sequential([kerax.Input((64,)), kerax.layers.Dense(64, activation="relu"),
                             kerax.layers.Dense(10, activation="softmax", dtype="float32")])


def test_mixed_bfloat16_trains_like_float32(policy):
    x, y = _digits()
    kerax.utils.set_random_seed(0)
    ref = _mlp()
    policy.set_global_policy("mixed_bfloat16")
    mixed = _mlp()
    policy.set_global_policy("float32")
    mixed.set_weights(ref.get_weights())
    hidden = mixed.layers[0]
    assert (hidden.compute_dtype, hidden.dtype) == ("bfloat16", "float32")
    assert mixed.variables["params"][hidden.name]["kernel"].dtype == jnp.float32
    h_out, _ = hidden.apply({"params": mixed.variables["params"][hidden.name], "state": {}},
                            x[:2])
    assert h_out.dtype == jnp.bfloat16
    out, _ = mixed.apply(mixed.variables, x[:2])
    assert out.dtype == jnp.float32
    accs = []
    for m in (ref, mixed):
        m.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        m.fit(x[:1400], y[:1400], epochs=8, batch_size=64, verbose=0)
        accs.append(m.evaluate(x[1400:], y[1400:], verbose=0)[1])
        assert all(w.dtype == np.float32 for w in m.get_weights())
    assert accs[1] > 0.85 and abs(accs[0] - accs[1]) < 0.05, accs


def test_mixed_float16_wraps_the_optimizer_in_loss_scaling(policy):
    x, y = _digits()
    policy.set_global_policy("mixed_float16")
    model = _mlp()
    policy.set_global_policy("float32")
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    assert type(model.optimizer).__name__ == "LossScaleOptimizer"
    h = model.fit(x[:1400], y[:1400], epochs=3, batch_size=64, verbose=0)
    assert h.history["loss"][-1] < h.history["loss"][0]
    assert model.get_config()["layers"][1]["config"]["dtype"]["config"]["name"] == "mixed_float16"


def test_mixed_bfloat16_cnn_trains_like_float32(policy):
    x, y = _digits()
    x = x.reshape(-1, 8, 8, 1)

    def cnn():
        return kerax.Sequential([
            kerax.Input((8, 8, 1)), kerax.layers.Conv2D(8, 3, activation="relu"),
            kerax.layers.MaxPooling2D(), kerax.layers.Flatten(),
            kerax.layers.Dense(10, activation="softmax", dtype="float32")])

    kerax.utils.set_random_seed(1)
    ref = cnn()
    policy.set_global_policy("mixed_bfloat16")
    mixed = cnn()
    policy.set_global_policy("float32")
    mixed.set_weights(ref.get_weights())
    conv = mixed.layers[0]
    out, _ = conv.apply({"params": mixed.variables["params"][conv.name], "state": {}}, x[:2])
    assert out.dtype == jnp.bfloat16
    accs = []
    for m in (ref, mixed):
        m.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        m.fit(x[:1400], y[:1400], epochs=6, batch_size=64, verbose=0)
        accs.append(m.evaluate(x[1400:], y[1400:], verbose=0)[1])
    assert accs[1] > 0.6 and abs(accs[0] - accs[1]) < 0.05, accs  # same accuracy as float32
