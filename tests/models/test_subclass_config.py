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
