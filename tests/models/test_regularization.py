"""Losses from layers (regularizers, activity losses, `add_loss`) and constraints vs Keras 3."""

import jax.numpy as jnp
import numpy as np
import pytest

import kerax
from kerax.layers import weight_rules as regularization


def _data(n=10, d=4, k=3, seed=0):
    r = np.random.default_rng(seed)
    return r.normal(size=(n, d)).astype("float32"), r.normal(size=(n, k)).astype("float32")


def _stack(lib, spec):
    """The same two-layer model in Keras or kerax; `spec` picks the layer options."""
    L = lib.layers
    first = dict(units=5, activation="tanh")
    second = dict(units=3)
    if spec == "kernel_l2":
        first.update(kernel_regularizer=lib.regularizers.L2(0.05),
                     bias_regularizer=lib.regularizers.L1(0.02))
        second.update(kernel_regularizer=lib.regularizers.L1L2(l1=0.01, l2=0.02))
    elif spec == "activity":
        first.update(activity_regularizer=lib.regularizers.L2(0.1))
    elif spec == "constraints":
        first.update(kernel_constraint=lib.constraints.MaxNorm(0.5),
                     bias_constraint=lib.constraints.NonNeg())
        second.update(kernel_constraint=lib.constraints.UnitNorm(axis=0))
    layers = [lib.Input((4,)), L.Dense(**first, name="d1")]
    if spec == "activity":
        layers.append(L.ActivityRegularization(l1=0.01, l2=0.02, name="act"))
    layers.append(L.Dense(**second, name="d2"))
    return lib.Sequential(layers)


@pytest.mark.parametrize("spec", ["kernel_l2", "activity", "constraints"])
def test_fit_matches_keras(keras, spec):
    x, y = _data()
    km = _stack(keras, spec)
    m = _stack(kerax, spec)
    m.set_weights(km.get_weights())
    for model in (km, m):
        model.compile(optimizer="sgd", loss="mse")
    kh = km.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    h = m.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    np.testing.assert_allclose(h.history["loss"], kh.history["loss"], rtol=1e-5, atol=1e-6)
    for a, b in zip(m.get_weights(), km.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    ke = km.evaluate(x, y, batch_size=4, verbose=0)
    np.testing.assert_allclose(m.evaluate(x, y, batch_size=4, verbose=0), ke, rtol=1e-5)


def _custom_layer(lib):
    class Scaled(lib.layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones",
                                     regularizer=lib.regularizers.L2(0.3),
                                     constraint=lib.constraints.NonNeg(), name="w")

        def call(self, x):
            self.add_loss(0.01 * lib.ops.sum(lib.ops.abs(x)))
            return x * self.w

    return Scaled


def test_add_loss_and_add_weight_regularizer_match_keras(keras):
    x, y = _data(k=4)
    models = []
    for lib in (keras, kerax):
        model = lib.Sequential([lib.Input((4,)), _custom_layer(lib)(name="scaled"),
                                lib.layers.Dense(4, name="d")])
        model.compile(optimizer=lib.optimizers.SGD(0.5), loss="mse")
        models.append(model)
    km, m = models
    m.set_weights(km.get_weights())
    kh = km.fit(x, y, batch_size=5, epochs=2, shuffle=False, verbose=0)
    h = m.fit(x, y, batch_size=5, epochs=2, shuffle=False, verbose=0)
    np.testing.assert_allclose(h.history["loss"], kh.history["loss"], rtol=1e-5)
    for a, b in zip(m.get_weights(), km.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert (m.get_weights()[0] >= 0).all()  # the constraint held


def test_model_losses_after_eager_call(keras):
    x, _ = _data(n=3)
    values = []
    for lib in (keras, kerax):
        model = _stack(lib, "kernel_l2")
        model.add(lib.layers.Dense(2, activity_regularizer="l1", name="d3"))
        values.append(model)
    km, m = values
    m.set_weights(km.get_weights())
    km(x), m(x)
    k_losses = sorted(float(v) for v in km.losses)
    losses = sorted(float(v) for v in m.losses)
    np.testing.assert_allclose(losses, k_losses, rtol=1e-5)
    assert len(losses) == 4  # three weight regularizers and one activity loss


def test_embedding_and_attention_regularizers_are_found():
    emb = kerax.layers.Embedding(5, 2, embeddings_regularizer=kerax.regularizers.L2(1.0))
    emb(np.array([[1, 2]]))
    table = emb.get_weights()[0]
    np.testing.assert_allclose(float(emb.losses[0]), np.sum(table ** 2), rtol=1e-6)
    mha = kerax.layers.MultiHeadAttention(2, 3, kernel_regularizer="l2")
    q = np.ones((1, 2, 4), "float32")
    mha(q, q)
    assert len(mha.losses) == 4  # query, key, value and output projections


def test_frozen_layers_add_no_regularization():
    model = _stack(kerax, "kernel_l2")
    assert len(model.losses) == 3
    model.get_layer("d1").trainable = False
    assert len(model.losses) == 1


def test_apply_with_losses_is_pure():
    layer = kerax.layers.Dense(2, kernel_regularizer="l2", activity_regularizer="l1")
    layer(np.ones((1, 3), "float32"))
    y, _, losses = regularization.apply_with_losses(layer, layer.variables, jnp.ones((1, 3)))
    assert len(losses) == 2
    assert "_eager_losses" in layer.__dict__ and len(layer.__dict__["_eager_losses"]) == 1


def test_add_loss_rejects_non_tensors():
    class Bad(kerax.layers.Layer):
        def call(self, x):
            self.add_loss("oops")
            return x

    with pytest.raises(ValueError, match="`add_loss\\(\\)` expects a scalar tensor"):
        Bad()(np.ones((1, 2)))


def _row_sum_penalty_model(lib):
    class Penalized(lib.layers.Layer):
        """A loss that sums over the batch's rows: padded rows would change it."""

        def call(self, x):
            self.add_loss(0.01 * lib.ops.sum(x ** 2))
            return x

    return lib.Sequential([lib.Input((3,)), lib.layers.Dense(4), Penalized(),
                           lib.layers.Dense(1)])


def test_add_loss_over_rows_sees_only_the_real_rows_of_a_short_batch(keras):
    """10 samples in batches of 4: the last batch has 2 rows, as in Keras (kerax runs it
    at its real size instead of padding it, since the added loss sums over rows)."""
    r = np.random.default_rng(0)
    x, y = r.normal(size=(10, 3)).astype("float32"), r.normal(size=(10, 1)).astype("float32")
    km, m = _row_sum_penalty_model(keras), _row_sum_penalty_model(kerax)
    m.set_weights(km.get_weights())
    for model in (km, m):
        model.compile(optimizer="sgd", loss="mse")
    kh = km.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    h = m.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    np.testing.assert_allclose(h.history["loss"], kh.history["loss"], rtol=1e-5)
    for a, b in zip(m.get_weights(), km.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(m.evaluate(x, y, verbose=0), km.evaluate(x, y, verbose=0),
                               rtol=1e-5)


def test_add_loss_over_rows_with_uneven_stream_batches_matches_keras(keras):
    """A PyDataset of 8, 8 and 3 rows: each batch runs at its size (no zero padding)."""
    r = np.random.default_rng(1)
    x, y = r.normal(size=(19, 3)).astype("float32"), r.normal(size=(19, 1)).astype("float32")

    def dataset(lib):
        class Batches(lib.utils.PyDataset):
            def __len__(self):
                return 3

            def __getitem__(self, i):
                return x[8 * i:8 * i + 8], y[8 * i:8 * i + 8]

        return Batches()

    km, m = _row_sum_penalty_model(keras), _row_sum_penalty_model(kerax)
    m.set_weights(km.get_weights())
    for model in (km, m):
        model.compile(optimizer="sgd", loss="mse")
    kh = km.fit(dataset(keras), epochs=2, verbose=0, shuffle=False)
    h = m.fit(dataset(kerax), epochs=2, verbose=0, shuffle=False)
    np.testing.assert_allclose(h.history["loss"], kh.history["loss"], rtol=1e-5)
    for a, b in zip(m.get_weights(), km.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
