"""SpectralNormalization and Wrapper against Keras 3: outputs, `vector_u` updates, weight
order, `fit`, config, transforms and errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kerax

DENSE = (lambda L: L.Dense(3), (4, 4))
CONV = (lambda L: L.Conv2D(2, 3), (2, 5, 5, 2))


def _pair(keras, make, shape, **kwargs):
    """The same SpectralNormalization in Keras and kerax, with Keras' weights."""
    x = np.random.default_rng(0).standard_normal(shape).astype("float32")
    keras.utils.set_random_seed(0)  # Keras' weights, and the power iteration's start, fixed
    klayer = keras.layers.SpectralNormalization(make(keras.layers), **kwargs)
    layer = kerax.layers.SpectralNormalization(make(kerax.layers), **kwargs)
    klayer(x)
    layer(x)
    layer.set_weights(klayer.get_weights())
    return klayer, layer, x


def _close(a, b, rtol=1e-5, atol=1e-6):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=rtol, atol=atol)


@pytest.mark.parametrize("make,shape", [DENSE, CONV], ids=["dense", "conv2d"])
@pytest.mark.parametrize("power_iterations", [1, 3])
def test_matches_keras_in_inference_and_training(keras, make, shape, power_iterations):
    klayer, layer, x = _pair(keras, make, shape, power_iterations=power_iterations)
    variables = layer.variables
    _close(layer.apply(variables, x)[0], klayer(x))
    # Pure training step: normalized output and the updated `vector_u` in the state.
    y, state = layer.apply(variables, x, training=True)
    _close(y, klayer(x, training=True))
    _close(state["vector_u"], klayer.vector_u.numpy())
    # Eager training calls also store the normalized kernel, as Keras does (Keras' call
    # above stored it: start again from Keras' weights).
    layer.set_weights(klayer.get_weights())
    for _ in range(2):
        _close(layer(x, training=True), klayer(x, training=True))
    for a, b in zip(layer.get_weights(), klayer.get_weights()):
        _close(a, b)
    _close(layer(x), klayer(x))


def test_normalized_kernel_has_unit_spectral_norm_after_iterations(keras):
    _, layer, _ = _pair(keras, *DENSE, power_iterations=20)
    kernel = layer.variables["params"]["layer"]["kernel"]
    _, normalized = layer.normalized_weights(kernel, layer.variables["state"]["vector_u"])
    np.testing.assert_allclose(np.linalg.norm(np.asarray(normalized), 2), 1.0, rtol=1e-4)


def test_weight_order_and_trainability_match_keras(keras):
    klayer, layer, _ = _pair(keras, *CONV)
    assert [w.shape for w in layer.get_weights()] == [(3, 3, 2, 2), (1, 2), (2,)]
    assert [tuple(w.shape) for w in klayer.weights] == [tuple(w.shape) for w in layer.weights]
    assert [w.trainable for w in layer.weights] == [w.trainable for w in klayer.weights]
    weights, variables = layer.get_weights(), layer.variables
    np.testing.assert_array_equal(weights[0], variables["params"]["layer"]["kernel"])
    np.testing.assert_array_equal(weights[1], variables["state"]["vector_u"])
    assert [w.shape for w in layer.non_trainable_weights] == [(1, 2)]


def test_zero_kernel_is_left_unchanged(keras):
    layer = kerax.layers.SpectralNormalization(kerax.layers.Dense(2, kernel_initializer="zeros"))
    x = jnp.ones((2, 3))
    v = layer.init(jax.random.PRNGKey(0), x)
    y, state = layer.apply(v, x, training=True)
    _close(state["vector_u"], v["state"]["vector_u"])
    assert not np.isnan(np.asarray(y)).any()


def test_fit_three_sgd_steps_matches_keras(keras):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((12, 4)).astype("float32")
    y = rng.standard_normal((12, 2)).astype("float32")

    def model(lib, opt):
        m = lib.Sequential([lib.Input((4,)), lib.layers.SpectralNormalization(
            lib.layers.Dense(2), power_iterations=2)])
        m.compile(optimizer=opt.SGD(learning_rate=0.1), loss="mse")
        return m

    kmodel, model_ = model(keras, keras.optimizers), model(kerax, kerax.optimizers)
    model_.set_weights(kmodel.get_weights())
    kh = kmodel.fit(x, y, batch_size=12, epochs=3, shuffle=False, verbose=0)
    h = model_.fit(x, y, batch_size=12, epochs=3, shuffle=False, verbose=0)
    assert len(h.history["loss"]) == 3  # one step per epoch
    _close(h.history["loss"], kh.history["loss"], rtol=1e-5)
    for a, b in zip(model_.get_weights(), kmodel.get_weights()):  # kernel, u, bias
        _close(a, b, rtol=1e-5, atol=1e-6)


def test_config_round_trip_nests_the_layer(keras):
    layer = kerax.layers.SpectralNormalization(kerax.layers.Conv2D(2, 3), power_iterations=2)
    config = layer.get_config()
    assert config["layer"]["class_name"] == "Conv2D"
    assert config["layer"]["config"]["filters"] == 2 and config["power_iterations"] == 2
    clone = kerax.layers.SpectralNormalization.from_config(config)
    assert isinstance(clone.layer, kerax.layers.Conv2D) and clone.get_config() == config
    # Keras reads kerax's config and the other way round.
    kclone = keras.layers.SpectralNormalization.from_config(config)
    assert kclone.power_iterations == 2 and kclone.layer.filters == 2
    back = kerax.layers.deserialize(keras.layers.serialize(kclone))
    assert isinstance(back.layer, kerax.layers.Conv2D) and back.power_iterations == 2


def test_wrapper_config_and_variables():
    wrapper = kerax.layers.Wrapper(kerax.layers.Dense(3, name="d"))
    v = wrapper.init(jax.random.PRNGKey(0), jnp.ones((2, 4)))
    assert sorted(v["params"]["layer"]) == ["bias", "kernel"]
    clone = kerax.layers.Wrapper.from_config(wrapper.get_config())
    assert clone.layer.name == "d" and clone.get_config() == wrapper.get_config()


def test_jit_grad_vmap_in_training(keras):
    _, layer, x = _pair(keras, *DENSE)
    variables = layer.variables
    step = lambda v, x: layer.apply(v, x, training=True)
    y, state = step(variables, x)
    y_jit, state_jit = jax.jit(step)(variables, x)
    _close(y_jit, y)
    _close(state_jit["vector_u"], state["vector_u"])
    y_vmap, _ = jax.vmap(step, in_axes=(None, 0))(variables, x[:, None])
    _close(y_vmap[:, 0], y)

    # Gradients (u and v held constant, as Keras' stop_gradient) equal Keras'.
    klayer, layer, x = _pair(keras, *DENSE)
    variables = layer.variables

    def loss(params):
        out, _ = layer.apply({"params": params, "state": variables["state"]}, x, training=True)
        return jnp.sum(jnp.sin(out))

    def kloss(trainable):
        out, _ = klayer.stateless_call(trainable, [v.value for v in klayer.non_trainable_variables],
                                       x, training=True)
        return jnp.sum(jnp.sin(out))

    grads = jax.jit(jax.grad(loss))(variables["params"])
    kgrads = jax.grad(kloss)([v.value for v in klayer.trainable_variables])
    _close(grads["layer"]["kernel"], kgrads[0], rtol=1e-4, atol=1e-5)
    _close(grads["layer"]["bias"], kgrads[1], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("value", [0, -1])
def test_power_iterations_must_be_positive(value):
    with pytest.raises(ValueError, match=r"`power_iterations` should be an integer greater "
                                         rf"than zero\. Received: `power_iterations={value}`"):
        kerax.layers.SpectralNormalization(kerax.layers.Dense(2), power_iterations=value)


def test_wrapped_layer_without_kernel_is_an_error():
    layer = kerax.layers.SpectralNormalization(kerax.layers.LayerNormalization(name="ln"))
    with pytest.raises(ValueError, match=r"wrapped LayerNormalization 'ln' has no attribute "
                                         r"'kernel' nor 'embeddings'.*Wrap a layer with a kernel"):
        layer.init(jax.random.PRNGKey(0), jnp.ones((2, 3)))


def test_wrapping_a_non_layer_is_an_error():
    with pytest.raises(ValueError, match=r"SpectralNormalization expects a `kerax.layers.Layer` "
                                         r"instance to wrap, received 'dense'"):
        kerax.layers.SpectralNormalization("dense")


def test_keras_files_load_both_ways(keras, tmp_path):
    x = np.random.default_rng(2).standard_normal((4, 4)).astype("float32")
    kmodel = keras.Sequential([keras.Input((4,)), keras.layers.SpectralNormalization(
        keras.layers.Dense(2))])
    kmodel(x, training=True)  # a normalized kernel and a moved `vector_u`
    kmodel.save(tmp_path / "k.keras")
    model = kerax.models.load_model(tmp_path / "k.keras")
    for a, b in zip(model.get_weights(), kmodel.get_weights()):
        _close(a, b)
    model.save(tmp_path / "m.keras")
    back = keras.models.load_model(tmp_path / "m.keras")
    _close(back.predict(x, verbose=0), kmodel.predict(x, verbose=0))
