"""Regularizers and constraints are declared per weight, as in Keras 3:
`add_weight(regularizer=..., constraint=...)` in a Keras-style layer, `param_rules()` (from
the constructor arguments, `kernel_regularizer`, ...) in a built-in or explicit-style layer.
An attribute alone (`self.kernel_regularizer`) regularizes nothing (Keras ignores it too).
`test_weight_rules_parity.py` checks every built-in layer's arguments against Keras 3."""

import jax
import jax.numpy as jnp
import numpy as np

import kerax
from kerax.layers import weight_rules


def _keras_style(K, declare):
    class Projection(K.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.kernel_regularizer = K.regularizers.L2(0.5)
            self.kernel_constraint = K.constraints.NonNeg()

        def build(self, input_shape):
            rules = dict(regularizer=self.kernel_regularizer,
                         constraint=self.kernel_constraint) if declare else {}
            self.kernel = self.add_weight(shape=(input_shape[-1], 2), initializer="ones",
                                          name="kernel", **rules)
            self.bias = self.add_weight(shape=(2,), initializer="zeros", name="bias")

        def call(self, x):
            return K.ops.matmul(x, self.kernel) + self.bias

    return Projection()


def _losses(layer):
    return [float(v) for v in layer.losses]


def test_add_weight_declares_the_rules_of_its_weight_as_keras(keras):
    x = np.ones((1, 3), "float32")
    for declare in (False, True):
        klayer, layer = _keras_style(keras, declare), _keras_style(kerax, declare)
        klayer(x)
        layer(x)
        np.testing.assert_allclose(_losses(layer), _losses(klayer), rtol=1e-6)
        params = {"kernel": -jnp.ones((3, 2)), "bias": -jnp.ones(2)}
        new = weight_rules.apply_constraints(layer, params)
        kconstraint = klayer.kernel.constraint
        expected = np.asarray(kconstraint(-np.ones((3, 2)))) if kconstraint else -np.ones((3, 2))
        np.testing.assert_array_equal(np.asarray(new["kernel"]), expected)
        np.testing.assert_array_equal(np.asarray(new["bias"]), -np.ones(2))
    assert _losses(layer) == [3.0]


def test_built_in_layers_declare_rules_with_their_arguments(keras):
    x = np.ones((2, 3), "float32")
    klayer = keras.layers.Dense(2, kernel_regularizer="l2", bias_regularizer="l1",
                                bias_initializer="ones")
    layer = kerax.layers.Dense(2, kernel_regularizer="l2", bias_regularizer="l1",
                               bias_initializer="ones")
    klayer(x)
    layer(x)
    layer.set_weights(klayer.get_weights())
    np.testing.assert_allclose(_losses(layer), _losses(klayer), rtol=1e-6)


def test_declare_records_and_clears_one_weights_rules():
    layer = kerax.layers.Layer()
    weight_rules.declare(layer, "w", regularizer=kerax.regularizers.L1(1.0),
                         constraint=kerax.constraints.NonNeg())
    params = {"w": -jnp.ones(2)}
    assert [float(v) for v in weight_rules.weight_regularization_losses(layer, params)] == [2.0]
    assert float(weight_rules.apply_constraints(layer, params)["w"].min()) == 0.0
    weight_rules.declare(layer, "w")
    assert weight_rules.weight_regularization_losses(layer, params) == []
    assert not weight_rules.has_weight_rules(layer, params, "constraint")


def test_apply_with_losses_counts_weight_and_activity_terms():
    layer = kerax.layers.Dense(2, kernel_regularizer=kerax.regularizers.L2(0.5),
                               activity_regularizer="l1")
    x = jnp.ones((1, 3))
    variables = layer.init(jax.random.PRNGKey(0), x)
    y, _, losses = weight_rules.apply_with_losses(layer, variables, x)
    kernel = np.asarray(variables["params"]["kernel"])
    np.testing.assert_allclose(float(losses[0]), 0.5 * np.sum(kernel ** 2), rtol=1e-6)
    np.testing.assert_allclose(float(losses[1]), 0.01 * np.sum(np.abs(y)), rtol=1e-6)


class _Affine(kerax.layers.Layer):
    """An explicit-style layer whose kernel regularizer is an attribute; it declares it
    in `param_rules()` only when `declare` is set."""

    def __init__(self, declare, **kwargs):
        super().__init__(**kwargs)
        self.declare = declare
        self.kernel_regularizer = kerax.regularizers.L1(1.0)
        self.kernel_constraint = kerax.constraints.NonNeg()

    def build_variables(self, key, x):  # x: the input's jax.ShapeDtypeStruct
        return {"kernel": -jnp.ones((x.shape[-1], 2)), "bias": -jnp.ones(2)}, {}

    def forward(self, params, state, x, training=False, rng=None):
        return x @ params["kernel"] + params["bias"], state

    def param_rules(self):
        if not self.declare:
            return super().param_rules()
        return {"kernel": (self.kernel_regularizer, self.kernel_constraint)}


def test_an_explicit_layer_declares_its_rules_in_param_rules():
    x = jnp.ones((1, 3))
    for declare, expected in ((False, []), (True, [6.0])):
        layer = _Affine(declare)
        params = layer.init(jax.random.PRNGKey(0), x)["params"]
        losses = weight_rules.weight_regularization_losses(layer, params)
        assert [float(v) for v in losses] == expected
        new = weight_rules.apply_constraints(layer, params)
        assert float(new["kernel"].min()) == (0.0 if declare else -1.0)
        assert float(new["bias"].min()) == -1.0


class _TwoHeads(kerax.layers.Layer):
    """Params in sub-dicts that no sub-layer owns; a nested table declares their rules."""

    def build_variables(self, key, x):  # x: the input's jax.ShapeDtypeStruct
        head = {"kernel": -jnp.ones((x.shape[-1], 2)), "bias": -jnp.ones(2)}
        return {"left": head, "right": dict(head)}, {}

    def forward(self, params, state, x, training=False, rng=None):
        return x @ params["left"]["kernel"] + x @ params["right"]["kernel"], state

    def param_rules(self):
        return {"left": {"kernel": (kerax.regularizers.L1(1.0), kerax.constraints.NonNeg())}}


def test_a_nested_table_declares_the_rules_of_a_sub_dict_of_params():
    layer = _TwoHeads()
    params = layer.init(jax.random.PRNGKey(0), jnp.ones((1, 3)))["params"]
    assert [float(v) for v in weight_rules.weight_regularization_losses(layer, params)] == [6.0]
    new = weight_rules.apply_constraints(layer, params)
    assert float(new["left"]["kernel"].min()) == 0.0
    for path in (("left", "bias"), ("right", "kernel"), ("right", "bias")):
        assert float(new[path[0]][path[1]].min()) == -1.0


def test_a_never_built_multi_head_attention_copy_regularizes_its_projections():
    mha = kerax.layers.MultiHeadAttention(2, 2, kernel_regularizer=kerax.regularizers.L2(0.1),
                                          bias_constraint="non_neg")
    x = jnp.ones((1, 3, 4))
    params = mha.init(jax.random.PRNGKey(0), x, x)["params"]
    params = jax.tree_util.tree_map(lambda p: p - 1.0, params)
    copy = kerax.layers.MultiHeadAttention.from_config(mha.get_config())
    expected = [0.1 * float(jnp.sum(params[n]["kernel"] ** 2))
                for n in ("query", "key", "value", "attention_output")]
    for layer in (mha, copy):
        losses = weight_rules.weight_regularization_losses(layer, params)
        np.testing.assert_allclose(sorted(float(v) for v in losses), sorted(expected),
                                   rtol=1e-6)
        new = weight_rules.apply_constraints(layer, params)
        assert all(float(new[n]["bias"].min()) == 0.0 for n in new)
        assert all(float(new[n]["kernel"].min()) < 0.0 for n in new)
