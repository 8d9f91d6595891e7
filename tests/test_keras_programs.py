"""Typical Keras 3 programs, written once, run with `keras` and with `kerax`.

Each `program(keras, stochastic)` is a small keras.io-style script that takes the library
module, so the same code runs on Keras 3 (the `keras` fixture) and on kerax. With
`stochastic=False` its random layers (Dropout, augmentation) are switched off, so the two
libraries, started from the same weights, must agree on predictions, losses and metrics.
With `stochastic=True` the program runs as written; then only structure is compared.
"""

import math

import jax
import numpy as np
import pytest

import kerax


def transformer(keras, stochastic=True):
    """A transformer block classifier (keras.io 'Text classification with Transformer')."""
    dropout = 0.1 if stochastic else 0.0
    L, V, D = 8, 20, 16
    inp = keras.Input(shape=(L,), dtype="int32")
    class TokenAndPositionEmbedding(keras.layers.Layer):
        def __init__(self, maxlen, vocab_size, embed_dim, **kwargs):
            super().__init__(**kwargs)
            self.token_emb = keras.layers.Embedding(vocab_size, embed_dim)
            self.pos_emb = keras.layers.Embedding(maxlen, embed_dim)

        def call(self, x):
            maxlen = keras.ops.shape(x)[-1]
            positions = keras.ops.arange(start=0, stop=maxlen, step=1)
            return self.token_emb(x) + self.pos_emb(positions)

    x = TokenAndPositionEmbedding(L, V, D)(inp)
    a = keras.layers.MultiHeadAttention(num_heads=2, key_dim=8)(x, x, use_causal_mask=True)
    a = keras.layers.Dropout(dropout)(a)
    x = keras.layers.LayerNormalization(epsilon=1e-6)(x + a)
    f = keras.layers.Dense(32, activation="relu")(x)
    f = keras.layers.Dense(D)(f)
    x = keras.layers.LayerNormalization(epsilon=1e-6)(x + f)
    x = keras.layers.GlobalAveragePooling1D()(x)
    out = keras.layers.Dense(3, activation="softmax")(x)
    model = keras.Model(inp, out)
    model.compile(optimizer=keras.optimizers.AdamW(learning_rate=1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(),
                  metrics=["accuracy"])
    rng = np.random.default_rng(0)
    x = rng.integers(0, V, (16, L)).astype("int32")
    y = rng.integers(0, 3, (16,))
    return model, x, y



def text_cnn(keras, stochastic=True):
    """A 1D convnet over word embeddings (keras.io 'IMDB with a 1D convnet')."""
    model = keras.Sequential([
        keras.Input(shape=(12,), dtype="int32"),
        keras.layers.Embedding(30, 8),
        keras.layers.Conv1D(6, 3, padding="valid", activation="relu", strides=1),
        keras.layers.GlobalMaxPooling1D(),
        keras.layers.Dropout(0.5 if stochastic else 0.0),
        keras.layers.Dense(8, activation="relu"),
        keras.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    rng = np.random.default_rng(1)
    x = rng.integers(0, 30, (20, 12)).astype("int32")
    y = rng.integers(0, 2, (20, 1)).astype("float32")
    return model, x, y


def image_classifier(keras, stochastic=True):
    """A small convnet with augmentation inside the model (keras.io 'Image classification from scratch')."""
    dropout = 0.5 if stochastic else 0.0
    layers = keras.layers
    aug = [layers.RandomFlip("horizontal"), layers.RandomRotation(0.1)] if stochastic else []
    model = keras.Sequential([
        keras.Input(shape=(8, 8, 3)),
        layers.Rescaling(1.0 / 255),
        *aug,
        layers.Conv2D(4, 3, padding="same", activation="relu"),
        layers.BatchNormalization(),
        layers.MaxPooling2D(),
        layers.Flatten(),
        layers.Dropout(dropout),
        layers.Dense(3, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    rng = np.random.default_rng(2)
    x = rng.uniform(0, 255, (16, 8, 8, 3)).astype("float32")
    y = rng.integers(0, 3, (16,))
    return model, x, y


def multi_io(keras, stochastic=True):
    """Dict inputs and outputs, shared embedding, per-output losses (keras.io functional API guide)."""
    dropout = 0.2 if stochastic else 0.0
    layers = keras.layers
    title = keras.Input(shape=(6,), dtype="int32", name="title")
    body = keras.Input(shape=(10,), dtype="int32", name="body")
    tags = keras.Input(shape=(4,), name="tags")
    emb = layers.Embedding(25, 8)
    t = layers.LSTM(8)(emb(title))
    b = layers.GRU(8)(emb(body))
    x = layers.concatenate([t, b, tags])
    x = layers.Dropout(dropout)(x)
    priority = layers.Dense(1, name="priority")(x)
    department = layers.Dense(3, activation="softmax", name="department")(x)
    model = keras.Model(inputs={"title": title, "body": body, "tags": tags},
                        outputs={"priority": priority, "department": department})
    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss={"priority": keras.losses.MeanSquaredError(),
              "department": keras.losses.CategoricalCrossentropy()},
        loss_weights={"priority": 1.0, "department": 0.2},
        metrics={"priority": ["mae"], "department": ["categorical_accuracy"]},
    )
    rng = np.random.default_rng(3)
    n = 16
    x = {"title": rng.integers(0, 25, (n, 6)).astype("int32"),
         "body": rng.integers(0, 25, (n, 10)).astype("int32"),
         "tags": rng.integers(0, 2, (n, 4)).astype("float32")}
    y = {"priority": rng.random((n, 1)).astype("float32"),
         "department": np.eye(3, dtype="float32")[rng.integers(0, 3, n)]}
    return model, x, y


def subclassed(keras, stochastic=True):
    """A subclassed Model around a custom `add_weight` layer, serializable to `.keras`."""
    dropout = 0.3 if stochastic else 0.0
    @keras.saving.register_keras_serializable(package="kp_test")
    class Scale(keras.layers.Layer):
        def __init__(self, units, init_value=1.0, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.init_value = init_value

        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], self.units),
                                     initializer="glorot_uniform", trainable=True, name="w")
            self.s = self.add_weight(shape=(self.units,),
                                     initializer=keras.initializers.Constant(self.init_value),
                                     name="s")

        def call(self, x):
            return keras.ops.tanh(keras.ops.matmul(x, self.w)) * self.s

        def get_config(self):
            config = super().get_config()
            config.update({"units": self.units, "init_value": self.init_value})
            return config

    @keras.saving.register_keras_serializable(package="kp_test")
    class Net(keras.Model):
        def __init__(self, hidden=8, rate=0.0, **kwargs):
            super().__init__(**kwargs)
            self.hidden = hidden
            self.rate = rate
            self.scale = Scale(hidden, init_value=0.5)
            self.drop = keras.layers.Dropout(rate)
            self.out = keras.layers.Dense(1)

        def call(self, x, training=False):
            return self.out(self.drop(self.scale(x), training=training))

        def get_config(self):
            return {**super().get_config(), "hidden": self.hidden, "rate": self.rate}

    @keras.saving.register_keras_serializable(package="kp_test")
    class MeanPrediction(keras.metrics.Metric):
        """A Keras-style custom metric: `add_variable`, `update_state`, `result`."""

        def __init__(self, name="mean_prediction", **kwargs):
            super().__init__(name=name, **kwargs)
            self.total = self.add_variable(shape=(), initializer="zeros", name="total")
            self.count = self.add_variable(shape=(), initializer="zeros", name="count")

        def update_state(self, y_true, y_pred, sample_weight=None):
            if sample_weight is None:
                sample_weight = keras.ops.ones(keras.ops.shape(y_pred)[:1])
            w = keras.ops.reshape(keras.ops.cast(sample_weight, "float32"), (-1, 1))
            self.total.assign_add(keras.ops.sum(y_pred * w))
            self.count.assign_add(keras.ops.sum(w))

        def result(self):
            return self.total / self.count

        def reset_state(self):
            self.total.assign(0.0)
            self.count.assign(0.0)

    model = Net(hidden=8, rate=dropout)
    model.compile(optimizer="sgd", loss="mse", metrics=["mae", MeanPrediction()])
    rng = np.random.default_rng(4)
    x = rng.standard_normal((16, 5)).astype("float32")
    y = rng.standard_normal((16, 1)).astype("float32")
    model(x[:2])
    return model, x, y


def autoencoder(keras, stochastic=True):
    """A convolutional denoising-style autoencoder (keras.io 'Convolutional autoencoder')."""
    layers = keras.layers
    inp = keras.Input(shape=(8, 8, 1))
    x = layers.Conv2D(4, 3, activation="relu", padding="same")(inp)
    x = layers.MaxPooling2D((2, 2), padding="same")(x)
    x = layers.Conv2DTranspose(4, 3, strides=2, activation="relu", padding="same")(x)
    x = layers.Conv2D(2, 3, activation="relu", padding="same")(x)
    x = layers.MaxPooling2D((2, 2))(x)
    x = layers.UpSampling2D((2, 2))(x)
    out = layers.Conv2D(1, 3, activation="sigmoid", padding="same")(x)
    model = keras.Model(inp, out)
    model.compile(optimizer="adam", loss="binary_crossentropy")
    rng = np.random.default_rng(5)
    x = rng.random((8, 8, 8, 1)).astype("float32")
    return model, x, x


def vae(keras, stochastic=True):
    """A variational encoder: a sampling layer with a `SeedGenerator`, `add_loss`, regularizers."""

    class Sampling(keras.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.seed_generator = keras.random.SeedGenerator(1337)

        def call(self, inputs):
            z_mean, z_log_var = inputs
            eps = keras.random.normal(shape=keras.ops.shape(z_mean), seed=self.seed_generator)
            return z_mean + keras.ops.exp(0.5 * z_log_var) * eps * (1.0 if stochastic else 0.0)

    class KLDivergence(keras.layers.Layer):
        def call(self, inputs):
            z_mean, z_log_var = inputs
            kl = -0.5 * keras.ops.mean(
                1 + z_log_var - keras.ops.square(z_mean) - keras.ops.exp(z_log_var))
            self.add_loss(0.1 * kl)
            return z_mean

    inp = keras.Input((6,))
    h = keras.layers.Dense(8, activation="relu", kernel_regularizer=keras.regularizers.l2(1e-3))(inp)
    z_mean, z_log_var = keras.layers.Dense(2)(h), keras.layers.Dense(2)(h)
    z = Sampling()([KLDivergence()([z_mean, z_log_var]), z_log_var])
    out = keras.layers.Dense(6, activity_regularizer="l1")(z)
    model = keras.Model(inp, out)
    model.compile(optimizer="adam", loss="mse")
    x = np.random.default_rng(6).standard_normal((16, 6)).astype("float32")
    return model, x, x


PROGRAMS = {
    "transformer": transformer,
    "text_cnn": text_cnn,
    "image_classifier": image_classifier,
    "multi_io": multi_io,
    "subclassed": subclassed,
    "autoencoder": autoencoder,
    "vae": vae,
}


def _callbacks(lib, name):
    if name != "image_classifier":
        return []
    return [lib.callbacks.EarlyStopping(monitor="val_loss", patience=1),
            lib.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=1)]


def _fit(lib, name, model, x, y):
    return model.fit(x, y, epochs=2, batch_size=4, shuffle=False, verbose=0,
                     validation_split=0.25, callbacks=_callbacks(lib, name)).history


def _assert_close(actual, desired, tol):
    jax.tree_util.tree_map(
        lambda a, d: np.testing.assert_allclose(np.asarray(a), np.asarray(d), rtol=tol, atol=tol),
        actual, desired)


@pytest.fixture(scope="module", params=sorted(PROGRAMS))
def trained(request, keras):
    """Each deterministic program built with both libraries from Keras' weights, then fit."""
    name = request.param
    km, x, y = PROGRAMS[name](keras, stochastic=False)
    xm, _, _ = PROGRAMS[name](kerax, stochastic=False)
    xm.set_weights(km.get_weights())
    before = (xm.predict(x, verbose=0), km.predict(x, verbose=0))
    histories = (_fit(kerax, name, xm, x, y), _fit(keras, name, km, x, y))
    return name, (xm, km), (x, y), before, histories


def test_predictions_match_keras_from_the_same_weights(trained):
    _, _, _, (got, want), _ = trained
    _assert_close(got, want, 1e-5)


def test_training_history_matches_keras(trained):
    _, _, _, _, (got, want) = trained
    assert sorted(got) == sorted(want)
    _assert_close(got, want, 1e-4)


def test_trained_models_evaluate_and_predict_like_keras(trained):
    _, (xm, km), (x, y), _, _ = trained
    _assert_close(xm.evaluate(x, y, verbose=0, return_dict=True),
                  km.evaluate(x, y, verbose=0, return_dict=True), 1e-4)
    _assert_close(xm.predict(x, verbose=0), km.predict(x, verbose=0), 1e-4)


@pytest.mark.parametrize("name", ["transformer", "image_classifier", "text_cnn", "vae"])
def test_programs_with_random_layers_run_as_written(name, keras):
    """Dropout and augmentation draw differently: compare structure, not numbers."""
    km, x, y = PROGRAMS[name](keras)
    xm, _, _ = PROGRAMS[name](kerax)
    xm.set_weights(km.get_weights())
    got, want = _fit(kerax, name, xm, x, y), _fit(keras, name, km, x, y)
    assert sorted(got) == sorted(want)
    assert all(len(got[k]) == len(want[k]) for k in want)
    assert all(math.isfinite(v) for v in got["loss"])
    assert xm.predict(x, verbose=0).shape == km.predict(x, verbose=0).shape


def test_subclassed_program_saves_and_reloads(tmp_path):
    model, x, y = subclassed(kerax)
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    model.save(tmp_path / "net.keras")
    loaded = kerax.saving.load_model(tmp_path / "net.keras")
    assert type(loaded).__name__ == "Net"
    assert loaded.get_config()["hidden"] == 8
    _assert_close(loaded.predict(x, verbose=0), model.predict(x, verbose=0), 1e-6)


def test_keras_style_custom_metric_works_stateful_and_pure(keras):
    """A `Metric` subclass written the Keras way (`add_variable`, `assign_add`, `result()`)."""
    def make(lib):
        class Total(lib.metrics.Metric):
            def __init__(self, name="total", **kwargs):
                super().__init__(name=name, **kwargs)
                self.total = self.add_variable(shape=(2,), initializer="ones", name="total")

            def update_state(self, values):
                self.total.assign_add(lib.ops.sum(values, axis=0))

            def result(self):
                return self.total * 2.0

        return Total()

    values = np.array([[1.0, 2.0], [3.0, 4.0]], "float32")
    mk, mx = make(keras), make(kerax)
    for m in (mk, mx):
        m.update_state(values)
        m.update_state(values)
    np.testing.assert_allclose(mx.result(), mk.result())
    assert len(mx.variables) == len(mk.variables) == 1
    mx.reset_state()
    np.testing.assert_allclose(mx.result(), [2.0, 2.0])
    state = jax.jit(mx.update)(mx.init(), values)  # the pure form kerax's engine uses
    np.testing.assert_allclose(mx.compute(state), [10.0, 14.0])
    np.testing.assert_allclose(mx.result(), [2.0, 2.0])  # its own state untouched


@pytest.mark.parametrize("name", ["subclassed", "autoencoder"])
def test_a_keras_saved_program_loads_in_kerax(name, keras, tmp_path):
    km, x, _ = PROGRAMS[name](keras, stochastic=False)
    km.save(tmp_path / "model.keras")
    loaded = kerax.saving.load_model(tmp_path / "model.keras")
    _assert_close(loaded.predict(x, verbose=0), km.predict(x, verbose=0), 1e-5)
