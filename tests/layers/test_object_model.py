"""Keras-style layers as Keras users write them, run on Keras 3 and on kerax: `build()`
ending in `super().build()`, weightless sub-layers, `assign` inside `call`, freezing a
nested model, a SeedGenerator two levels deep, and sub-layers inside `get_config()`."""

import json

import numpy as np
import pytest

import kerax

X = np.random.default_rng(0).standard_normal((8, 4)).astype("float32")
Y = np.random.default_rng(1).standard_normal((8, 2)).astype("float32")


def _fit(model, epochs=2):
    model.compile(optimizer="sgd", loss="mse")
    return model.fit(X, Y, batch_size=4, epochs=epochs, shuffle=False, verbose=0)


def _same_start(kmodel, model):
    kmodel(X[:1])
    model(X[:1])
    model.set_weights(kmodel.get_weights())


def _assert_same(a, b, tol=1e-5):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=tol, atol=tol)


# ------------------------------------------------------------- super().build() --
def _super_build_model(k):
    class Linear(k.layers.Layer):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = units

        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], self.units), name="w")
            self.b = self.add_weight(shape=(self.units,), initializer="zeros", name="b")
            super().build(input_shape)

        def call(self, x):
            return x @ self.w + self.b

    return k.Sequential([k.Input((4,)), Linear(3), Linear(2)]), Linear


def test_build_ending_in_super_build_matches_keras(keras):
    (kmodel, _), (model, linear) = _super_build_model(keras), _super_build_model(kerax)
    _same_start(kmodel, model)
    kh, h = _fit(kmodel), _fit(model)
    _assert_same(h.history["loss"], kh.history["loss"])
    _assert_same(model.predict(X, verbose=0), kmodel.predict(X, verbose=0))
    layer = linear(2)
    layer.build((None, 4))  # called directly, as in Keras
    assert layer.built and [w.shape for w in layer.weights] == [(4, 2), (2,)]


# ---------------------------------------------------- weightless sub-layers --
def _block_model(k):
    class Block(k.layers.Layer):
        def __init__(self):
            super().__init__()
            self.dense = k.layers.Dense(2)
            self.dropout = k.layers.Dropout(0.5)
            self.act = k.layers.Activation("tanh")

        def call(self, x, training=False):
            return self.act(self.dropout(self.dense(x), training=training))

    class Net(k.Model):
        def __init__(self):
            super().__init__()
            self.block = Block()

        def call(self, x, training=False):
            return self.block(x, training=training)

    return Net()


def test_custom_layer_with_weightless_sub_layer_fits_like_keras(keras):
    kmodel, model = _block_model(keras), _block_model(kerax)
    _same_start(kmodel, model)
    _fit(kmodel), _fit(model)  # dropout noise differs between libraries: compare shapes
    assert [w.path.split("/")[-1] for w in model.weights] == \
        [w.path.split("/")[-1] for w in kmodel.weights]
    assert model.predict(X, verbose=0).shape == kmodel.predict(X, verbose=0).shape
    # In inference Dropout is the identity: both give tanh(dense(x)).
    _assert_same(model.predict(X, verbose=0),
                 np.tanh(X @ model.get_weights()[0] + model.get_weights()[1]))


# ------------------------------------------------------------ assign in call --
def _masked_model(k):
    class MaskedDense(k.layers.Layer):
        """Overwrites its kernel with `kernel * mask` at each call (pruning idiom)."""

        def build(self, input_shape):
            self.kernel = self.add_weight(shape=(input_shape[-1], 2), name="kernel",
                                          initializer="glorot_uniform")
            mask = np.ones((input_shape[-1], 2), "float32")
            mask[0] = 0.0
            self.mask = self.add_weight(shape=mask.shape, name="mask", trainable=False,
                                        initializer=k.initializers.Constant(mask))
            self.calls = self.add_weight(shape=(), name="calls", trainable=False,
                                         initializer="zeros")

        def call(self, x):
            self.kernel.assign(self.kernel * self.mask)
            self.calls.assign_add(1.0)
            return x @ self.kernel

    return k.Sequential([k.Input((4,)), MaskedDense()])


def test_assign_inside_call_matches_keras_eager_predict_and_fit(keras):
    kmodel, model = _masked_model(keras), _masked_model(kerax)
    kmodel.build((None, 4))
    model.build((None, 4))
    model.set_weights(kmodel.get_weights())
    # Eager call: the assigned kernel is kept, the counter advances.
    _assert_same(model(X), kmodel(X))
    _assert_same(model.get_weights()[0], kmodel.get_weights()[0])
    assert np.all(model.get_weights()[0][0] == 0)
    kh, h = _fit(kmodel), _fit(model)
    _assert_same(h.history["loss"], kh.history["loss"])
    for w, kw in zip(model.get_weights(), kmodel.get_weights()):
        _assert_same(w, kw)
    assert float(model.layers[0].calls.numpy()) == float(kmodel.layers[0].calls.numpy()) == 5
    _assert_same(model.predict(X, verbose=0), kmodel.predict(X, verbose=0))


def test_predict_keeps_state_assigned_in_call_as_keras(keras):
    kmodel, model = _masked_model(keras), _masked_model(kerax)
    for m in (kmodel, model):
        m.build((None, 4))
        m.predict(X, verbose=0)
    assert float(model.layers[0].calls.numpy()) == float(kmodel.layers[0].calls.numpy())


def test_assign_inside_call_under_jit_returns_state():
    import jax

    layer = _masked_model(kerax).layers[0]
    variables = layer.init(jax.random.PRNGKey(0), X)
    out, state = jax.jit(layer.apply)(variables, X)
    kernel = variables["params"]["kernel"] * variables["state"]["mask"]
    _assert_same(out, X @ kernel)
    assert float(state["calls"]) == 1.0


def test_reading_a_sub_layer_variable_inside_call_uses_the_applied_values():
    import jax

    class Tied(kerax.layers.Layer):
        def __init__(self):
            super().__init__()
            self.dense = kerax.layers.Dense(4, use_bias=False)

        def call(self, x):
            h = self.dense(x)
            return h @ kerax.ops.transpose(self.dense.kernel)

    layer = Tied()
    layer(X)
    v = layer.variables
    doubled = jax.tree_util.tree_map(lambda a: 2 * a, v)
    out, _ = jax.jit(layer.apply)(doubled, X)
    k = 2 * np.asarray(v["params"]["dense"]["kernel"])
    _assert_same(out, X @ k @ k.T, tol=1e-4)


# ------------------------------------------------------ frozen nested models --
def _transfer(k, subclassed):
    base = k.Sequential([k.Input((4,)), k.layers.Dense(3, name="b1"),
                         k.layers.BatchNormalization(name="bn"), k.layers.Dense(3, name="b2")],
                        name="base")
    if subclassed:
        class Top(k.Model):
            def __init__(self, base):
                super().__init__()
                self.base = base
                self.head = k.layers.Dense(2)

            def call(self, x, training=False):
                return self.head(self.base(x, training=training))

        model = Top(base)
    else:
        inputs = k.Input((4,))
        model = k.Model(inputs, k.layers.Dense(2)(base(inputs, training=False)))
    base.trainable = False
    return model, base


@pytest.mark.parametrize("subclassed", [False, True])
def test_freezing_a_nested_model_matches_keras(keras, subclassed):
    (kmodel, kbase), (model, base) = _transfer(keras, subclassed), _transfer(kerax, subclassed)
    _same_start(kmodel, model)
    counts = lambda m: (len(m.trainable_weights), len(m.non_trainable_weights))  # noqa: E731
    assert counts(model) == counts(kmodel)
    assert counts(base) == counts(kbase)
    assert [layer.trainable for layer in base.layers] == [la.trainable for la in kbase.layers]
    frozen = [w.copy() for w in base.get_weights()]
    kh, h = _fit(kmodel), _fit(model)
    _assert_same(h.history["loss"], kh.history["loss"])
    for w, before in zip(base.get_weights(), frozen):
        np.testing.assert_array_equal(w, before)
    for w, kw in zip(model.get_weights(), kmodel.get_weights()):
        _assert_same(w, kw)


# ------------------------------------------------ SeedGenerator two levels deep --
def _deep_seed_model(k):
    class Noise(k.layers.Layer):
        def __init__(self):
            super().__init__()
            self.seed_generator = k.random.SeedGenerator(11, name="noise_seed")

        def call(self, x, training=False):
            if training:
                return x + 0.1 * k.random.normal(k.ops.shape(x), seed=self.seed_generator)
            return x

    class Encoder(k.layers.Layer):
        def __init__(self):
            super().__init__()
            self.noise = Noise()
            self.dense = k.layers.Dense(2)

        def call(self, x, training=False):
            return self.dense(self.noise(x, training=training))

    class Net(k.Model):
        def __init__(self):
            super().__init__()
            self.encoder = Encoder()

        def call(self, x, training=False):
            return self.encoder(x, training=training)

    return Net()


def test_seed_generator_two_levels_deep_matches_keras(keras):
    kmodel, model = _deep_seed_model(keras), _deep_seed_model(kerax)
    _same_start(kmodel, model)
    kh, h = _fit(kmodel), _fit(model)
    _assert_same(h.history["loss"], kh.history["loss"])
    for w, kw in zip(model.get_weights(), kmodel.get_weights()):
        _assert_same(w, kw)
    gen, kgen = model.encoder.noise.seed_generator, kmodel.encoder.noise.seed_generator
    assert gen.state.numpy().tolist() == kgen.state.numpy().tolist() == [11, 4]
    assert [v.path for v in model.non_trainable_variables] == \
        [v.path for v in kmodel.non_trainable_variables]


# -------------------------------------------- layers inside get_config() --
def _wrapper_cls(k):
    class Wrapper(k.layers.Layer):
        def __init__(self, inner, **kwargs):
            super().__init__(**kwargs)
            self.inner = inner

        def call(self, x):
            return self.inner(x)

        def get_config(self):
            return {**super().get_config(), "inner": self.inner}

        @classmethod
        def from_config(cls, config):
            config["inner"] = k.layers.deserialize(config["inner"])
            return cls(**config)

    return Wrapper


def test_layer_in_get_config_serializes_like_keras(keras):
    kw = _wrapper_cls(keras)(keras.layers.Dense(2, name="inner"), name="wrap")
    w = _wrapper_cls(kerax)(kerax.layers.Dense(2, name="inner"), name="wrap")
    kconf = keras.saving.serialize_keras_object(kw)
    conf = kerax.saving.serialize_keras_object(w)
    assert json.loads(json.dumps(conf["config"])) == json.loads(json.dumps(kconf["config"]))
    assert (conf["class_name"], conf["registered_name"]) == \
        (kconf["class_name"], kconf["registered_name"])


def test_layer_in_get_config_round_trips_through_save(keras, tmp_path):
    wrapper = _wrapper_cls(kerax)
    model = kerax.Sequential([kerax.Input((4,)), wrapper(kerax.layers.Dense(2))])
    model.save(tmp_path / "m.keras")
    loaded = kerax.models.load_model(tmp_path / "m.keras", custom_objects={"Wrapper": wrapper})
    _assert_same(loaded.predict(X, verbose=0), model.predict(X, verbose=0))
    kwrapper = _wrapper_cls(keras)
    kloaded = keras.models.load_model(tmp_path / "m.keras", custom_objects={"Wrapper": kwrapper})
    _assert_same(kloaded.predict(X, verbose=0), model.predict(X, verbose=0))


@pytest.mark.parametrize("make", [
    lambda k: k.layers.Dense(2, name="d"),
    lambda k: k.initializers.GlorotUniform(seed=1),
    lambda k: k.optimizers.Adam(learning_rate=0.01),
    lambda k: k.losses.MeanSquaredError(),
    lambda k: k.metrics.Mean(name="m"),
    lambda k: k.regularizers.L2(0.1),
    lambda k: k.random.SeedGenerator(3, name="g"),
], ids=["layer", "initializer", "optimizer", "loss", "metric", "regularizer", "seed"])
def test_builtin_objects_serialize_as_keras_and_deserialize(keras, make):
    conf = kerax.saving.serialize_keras_object(make(kerax))
    kconf = keras.saving.serialize_keras_object(make(keras))
    assert (conf["module"], conf["class_name"], conf["registered_name"]) == \
        (kconf["module"], kconf["class_name"], kconf["registered_name"])
    again = kerax.saving.deserialize_keras_object(conf)
    assert type(again).__name__ == kconf["class_name"]
    assert type(keras.saving.deserialize_keras_object(conf)).__name__ == kconf["class_name"]
    assert type(kerax.saving.deserialize_keras_object(kconf)).__name__ == kconf["class_name"]


def test_registered_custom_object_keeps_its_registered_name(keras):
    @kerax.saving.register_keras_serializable(package="ObjModel")
    class Scale(kerax.layers.Layer):
        def call(self, x):
            return 2 * x

    conf = kerax.saving.serialize_keras_object(Scale())
    assert conf["registered_name"] == "ObjModel>Scale"
    assert isinstance(kerax.saving.deserialize_keras_object(conf), Scale)


def test_get_config_that_is_not_a_dict_is_refused():
    class Bad(kerax.layers.Layer):
        def get_config(self):
            return ["not", "a", "dict"]

    with pytest.raises(TypeError, match=r"`get_config\(\)` method of .* should return a dict"):
        kerax.saving.serialize_keras_object(Bad())


def test_custom_layer_may_name_an_attribute_init_as_in_keras(keras):
    # Keras-style layers often keep their initializer as `self.init`; kerax's own pure
    # `init`/`apply` are reached through the class, so the attribute shadows nothing.
    def run(lib):
        class Scale(lib.layers.Layer):
            def __init__(self, init="ones", **kwargs):
                super().__init__(**kwargs)
                self.init = init

            def build(self, input_shape):
                self.w = self.add_weight(shape=(input_shape[-1],), initializer=self.init)

            def call(self, x):
                return x * self.w

        class Net(lib.Model):
            def __init__(self):
                super().__init__()
                self.scale = Scale()
                self.out = lib.layers.Dense(1, kernel_initializer="ones")

            def call(self, x):
                return self.out(self.scale(x))

        x, y = np.ones((4, 3), "float32"), np.ones((4, 1), "float32")
        eager = np.asarray(Scale()(x))
        net = Net()
        net.compile(optimizer="sgd", loss="mse")
        history = net.fit(x, y, epochs=2, batch_size=4, verbose=0).history["loss"]
        inputs = lib.Input((3,))
        functional = lib.Model(inputs, Scale()(inputs)).predict(x, verbose=0)
        return eager, history, functional

    for ours, theirs in zip(run(kerax), run(keras)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)
