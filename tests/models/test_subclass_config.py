import pytest

import kerax


class Block(kerax.Model):
    def __init__(self, units=3, activation="relu", **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.dense = kerax.layers.Dense(units, activation=activation)

    def call(self, x):
        return self.dense(x)


def test_subclassed_init_args_round_trip():
    model = Block(units=5, activation="tanh", name="block")
    config = model.get_config()
    assert config == {"name": "block", "trainable": True, "units": 5, "activation": "tanh"}
    clone = Block.from_config(config)
    assert clone.units == 5 and clone.name == "block"


def test_non_serializable_init_args_need_get_config():
    class Holder(kerax.Model):
        def __init__(self, layer):
            super().__init__()
            self.inner = layer

    with pytest.raises(NotImplementedError, match="must override `get_config\\(\\)`"):
        Holder(kerax.layers.Dense(2)).get_config()


def test_keras_style_weights_work_with_jnp_under_jit_and_scan():
    import jax
    import jax.numpy as jnp

    class Lin(kerax.layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], 3), name="w")
            self.calls = self.add_weight(shape=(), initializer="zeros", trainable=False,
                                         name="calls")

        def call(self, x):
            self.calls.assign(self.calls + 1)
            return jnp.matmul(x, self.w)

    layer = Lin()
    x = jnp.ones((2, 4))
    v = layer.init(jax.random.PRNGKey(0), x)
    y, state = jax.jit(layer.apply)(v, x)
    assert y.shape == (2, 3) and float(state["calls"]) == 1.0
    scanned = jax.jit(lambda v: jax.lax.scan(
        lambda c, _: (c, layer.apply(v, x)[0]), 0, None, length=2)[1])(v)
    assert scanned.shape == (2, 2, 3)
    layer(x)
    assert layer.w.shape == (4, 3) and layer.calls.numpy() == 1.0
