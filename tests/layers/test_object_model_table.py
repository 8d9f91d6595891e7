"""Keras' object model, idiom by idiom: each row runs the same code on Keras 3 and on
kerax and compares what it returns (variable attributes by Keras' names, their paths,
names, dtypes, trainable flags, values, identity, `assign` and array behaviour)."""

import numpy as np
import pytest

import kerax

X = np.random.default_rng(0).standard_normal((2, 4)).astype("float32")
IMG = np.random.default_rng(1).standard_normal((1, 5, 5, 3)).astype("float32")
SEQ = np.random.default_rng(2).standard_normal((2, 3, 4)).astype("float32")


def _describe(v):
    """What Keras shows of a variable, in comparable form."""
    return (v.path, v.name, tuple(v.shape), str(np.dtype(v.dtype)), bool(v.trainable))


def _attrs(layer, *names):
    return [_describe(getattr(layer, n)) for n in names]


def _dense(k):
    layer = k.layers.Dense(3, name="d")
    layer(X)
    return _attrs(layer, "kernel", "bias")


def _dense_no_bias(k):
    layer = k.layers.Dense(3, use_bias=False, name="d")
    layer(X)
    return layer.bias is None, _attrs(layer, "kernel")


def _conv(k):
    layer = k.layers.Conv2D(2, 3, name="c")
    layer(IMG)
    return _attrs(layer, "kernel", "bias")


def _conv1d_transpose(k):
    layer = k.layers.Conv1DTranspose(2, 3, name="ct")
    layer(SEQ)
    return _attrs(layer, "kernel", "bias")


def _depthwise(k):
    layer = k.layers.DepthwiseConv2D(3, name="dw")
    layer(IMG)
    return _attrs(layer, "kernel", "bias")


def _separable(k):
    layer = k.layers.SeparableConv2D(2, 3, name="sep")
    layer(IMG)
    return _attrs(layer, "depthwise_kernel", "pointwise_kernel", "bias")


def _batchnorm(k):
    layer = k.layers.BatchNormalization(name="bn")
    layer(X, training=True)
    return (_attrs(layer, "gamma", "beta", "moving_mean", "moving_variance"),
            np.round(layer.moving_mean.numpy(), 5).tolist())


def _normalization(k):
    layer = k.layers.Normalization(name="norm")
    layer.adapt(X)
    return (_attrs(layer, "adapt_mean", "adapt_variance", "count"),
            [v.path for v in layer.weights], tuple(layer.mean.shape),
            np.round(np.asarray(layer.mean), 5).tolist(),
            np.round(np.asarray(layer.variance), 5).tolist())


def _embedding(k):
    layer = k.layers.Embedding(5, 3, name="emb")
    layer(np.array([[0, 1, 4]]))
    return _attrs(layer, "embeddings")


def _lstm_cell(k):
    layer = k.layers.LSTM(2, name="lstm")
    layer(SEQ)
    return [_describe(v) for v in
            (layer.cell.kernel, layer.cell.recurrent_kernel, layer.cell.bias)]


def _bidirectional_paths(k):
    layer = k.layers.Bidirectional(k.layers.GRU(2, name="g"), name="bi")
    layer(SEQ)
    return [w.path for w in layer.weights], layer.forward_layer.cell.kernel.path


def _gru_cell(k):
    layer = k.layers.GRU(2, name="gru")
    layer(SEQ)
    return [(v.name, tuple(v.shape)) for v in
            (layer.cell.kernel, layer.cell.recurrent_kernel, layer.cell.bias)]


def _layernorm(k):
    layer = k.layers.LayerNormalization(name="ln")
    layer(X)
    return _attrs(layer, "gamma", "beta")


def _prelu(k):
    layer = k.layers.PReLU(name="p")
    layer(X)
    return _attrs(layer, "alpha")


def _mha_sublayers(k):
    layer = k.layers.MultiHeadAttention(2, 2, name="mha")
    layer(SEQ, SEQ)
    return ([(w.path, tuple(w.shape)) for w in layer.weights],
            [_describe(d.kernel) for d in (layer.query_dense, layer.key_dense,
                                           layer.value_dense, layer.output_dense)],
            layer._query_dense is layer.query_dense)


def _identity(k):
    layer = k.layers.Dense(3)
    layer(X)
    w, b = layer.weights
    return (layer.weights == [w, b], layer.kernel is layer.weights[0],
            layer.trainable_weights[1] is layer.bias, layer.weights[0] is layer.weights[0],
            layer.trainable_variables[0] is layer.kernel)


def _model_identity(k):
    model = k.Sequential([k.Input((4,)), k.layers.Dense(3), k.layers.Dense(1)])
    return (model.weights[0] is model.layers[0].kernel,
            model.trainable_weights[3] is model.layers[1].bias,
            [w is v for w, v in zip(model.weights, model.layers[0].weights)])


def _sequential_paths(k):
    model = k.Sequential([k.Input((4,)), k.layers.Dense(3, name="a"),
                          k.layers.Dense(1, name="b")], name="seq")
    return [w.path for w in model.weights]


def _subclass_paths(k):
    class Net(k.Model):
        def __init__(self):
            super().__init__(name="net")
            self.d1 = k.layers.Dense(3, name="first")
            self.d2 = k.layers.Dense(1, name="second")

        def call(self, x):
            return self.d2(self.d1(x))

    model = Net()
    model(X)
    return [w.path for w in model.weights], model.d1.kernel.path


def _assign_outside(k):
    layer = k.layers.Dense(2)
    layer(X)
    layer.kernel.assign(np.ones((4, 2), "float32"))
    layer.bias.assign(np.array([1.0, -1.0], "float32"))
    return np.round(np.asarray(layer(X)), 5).tolist()


def _assign_add_sub(k):
    layer = k.layers.Dense(2, kernel_initializer="ones")
    layer(X)
    layer.bias.assign_add(np.array([2.0, 3.0], "float32"))
    layer.kernel.assign_sub(np.full((4, 2), 0.5, "float32"))
    return layer.bias.numpy().tolist(), layer.kernel.numpy()[0].tolist()


def _assign_then_predict(k):
    model = k.Sequential([k.Input((4,)), k.layers.Dense(2, name="d")])
    model.layers[0].kernel.assign(np.full((4, 2), 0.25, "float32"))
    return np.round(model.predict(X, verbose=0), 5).tolist()


def _array_behaviour(k):
    layer = k.layers.Dense(2, kernel_initializer="ones", bias_initializer="ones")
    layer(X)
    v = layer.kernel
    return (np.asarray(v).tolist(), v.numpy().sum().item(), (v + 1).tolist()[0],
            (2 * v).tolist()[0], (-v).tolist()[0], (X @ v).shape, v.shape, v.ndim,
            np.asarray(v.value).tolist() == np.asarray(v).tolist())


def _ops_on_variables(k):
    layer = k.layers.Dense(2, kernel_initializer="ones")
    layer(X)
    return (float(k.ops.sum(layer.kernel)), k.ops.matmul(X, layer.kernel).shape,
            np.asarray(k.ops.exp(layer.bias)).tolist(), k.ops.shape(layer.kernel))


def _trainable_flag(k):
    layer = k.layers.Dense(2)
    layer(X)
    layer.trainable = False
    return (layer.kernel.trainable, len(layer.trainable_weights),
            len(layer.non_trainable_weights))


def _seed_on_layer(k):
    class Noise(k.layers.Layer):
        def __init__(self):
            super().__init__()
            self.gen = k.random.SeedGenerator(7, name="gen")

        def call(self, x):
            return x + k.random.normal(k.ops.shape(x), seed=self.gen)

    layer = Noise()
    layer(X)
    layer(X)
    s = layer.gen.state
    return (s.path, s.name, str(np.dtype(s.dtype)), s.trainable, s.numpy().tolist(),
            [v.path for v in layer.non_trainable_variables], len(layer.weights))


def _seed_on_model(k):
    class Net(k.Model):
        def __init__(self):
            super().__init__()
            self.dense = k.layers.Dense(2)
            self.seed_generator = k.random.SeedGenerator(3, name="model_seed")

        def call(self, x, training=False):
            x = self.dense(x)
            if training:
                x = x + k.random.normal(k.ops.shape(x), seed=self.seed_generator)
            return x

    model = Net()
    model.compile("sgd", "mse")
    model.fit(X, np.zeros((2, 2), "float32"), epochs=2, verbose=0)
    s = model.seed_generator.state
    return (s.path, s.numpy().tolist(), model.non_trainable_variables[0] is s,
            len(model.trainable_variables))


def _sub_layer_attribute_in_model(k):
    model = k.Sequential([k.Input((4,)), k.layers.BatchNormalization(name="bn")], name="s")
    model.compile("sgd", "mse")
    model.fit(X, X, epochs=1, verbose=0, batch_size=2)
    bn = model.get_layer("bn")
    return ([v.path for v in model.non_trainable_weights],
            np.round(bn.moving_mean.numpy(), 5).tolist())


ROWS = [_dense, _dense_no_bias, _conv, _conv1d_transpose, _depthwise, _separable, _batchnorm,
        _normalization, _embedding, _lstm_cell, _bidirectional_paths, _gru_cell, _layernorm, _prelu, _mha_sublayers,
        _identity, _model_identity, _sequential_paths, _subclass_paths, _assign_outside,
        _assign_add_sub, _assign_then_predict, _array_behaviour, _ops_on_variables,
        _trainable_flag, _seed_on_layer, _seed_on_model, _sub_layer_attribute_in_model]


@pytest.mark.parametrize("row", ROWS, ids=[r.__name__.strip("_") for r in ROWS])
def test_object_model_idiom_matches_keras(keras, row):
    assert row(kerax) == row(keras)


def test_jnp_functions_accept_variables():
    import jax
    import jax.numpy as jnp

    layer = kerax.layers.Dense(2, kernel_initializer="ones")
    layer(X)
    assert float(jnp.sum(layer.kernel)) == 8.0
    assert jnp.matmul(X, layer.kernel).shape == (2, 2)
    assert float(jax.jit(lambda: jnp.sum(layer.kernel))()) == 8.0
    leaves = jax.tree_util.tree_leaves(layer.weights)
    assert [tuple(a.shape) for a in leaves] == [(4, 2), (2,)]


def test_assign_checks_the_shape():
    layer = kerax.layers.Dense(2)
    layer(X)
    with pytest.raises(ValueError, match=r"Cannot assign a value of shape \(3,\) to variable "
                                         r"'dense_\d+/bias' of shape \(2,\)"):
        layer.bias.assign(np.zeros(3, "float32"))


def test_reading_an_unbuilt_variable_says_build_first():
    class Scale(kerax.layers.Layer):
        def build(self, shape):
            self.w = self.add_weight(shape=(shape[-1],))

        def call(self, x):
            return x * self.w

    layer = Scale()
    view = layer._view("params", "w")
    with pytest.raises(ValueError, match="has no value yet: layer 'scale.*' is not built"):
        view.numpy()


def test_unbuilt_builtin_layer_has_no_kernel_attribute_as_in_keras(keras):
    assert hasattr(kerax.layers.Dense(2), "kernel") == hasattr(keras.layers.Dense(2), "kernel")
    with pytest.raises(AttributeError, match=r"Layer 'late' \(Dense\) is not built yet, so it "
                                             r"has no `kernel`\. Call it on an input"):
        kerax.layers.Dense(2, name="late").kernel
