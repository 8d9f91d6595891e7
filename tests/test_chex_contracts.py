"""The pure API's contracts, checked with chex's trace and tree assertions.

- `apply` traced under `jax.jit` once per input signature (`chex.assert_max_traces`),
  including a model's and a layer with state (BatchNormalization);
- `init` returns the same tree structure as the variables `fit` leaves, and one `fit` step
  equals one hand-written `jax.grad` + optax step on the same tree
  (`chex.assert_trees_all_equal_structs`, `chex.assert_trees_all_close`).
"""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax

import kerax


def _model():
    return kerax.Sequential([kerax.Input((4,)), kerax.layers.Dense(3, activation="relu"),
                             kerax.layers.BatchNormalization(), kerax.layers.Dense(2)])


def test_apply_traces_once_per_input_signature():
    model = _model()
    variables = model.init(jax.random.PRNGKey(0), jnp.ones((2, 4)))

    @jax.jit
    @chex.assert_max_traces(n=2)  # one per distinct batch size below
    def forward(v, x):
        return model.apply(v, x, training=True)

    for batch in (8, 8, 8, 5, 5):
        y, state = forward(variables, jnp.ones((batch, 4)))
        chex.assert_shape(y, (batch, 2))
        chex.assert_trees_all_equal_structs(state, variables["state"])


def test_a_second_trace_is_caught():
    layer = kerax.layers.Dense(2)
    variables = layer.init(jax.random.PRNGKey(0), jnp.ones((1, 3)))
    chex.clear_trace_counter()

    @jax.jit
    @chex.assert_max_traces(n=1)
    def forward(v, x):
        return layer.apply(v, x)[0]

    forward(variables, jnp.ones((4, 3)))
    try:
        forward(variables, jnp.ones((5, 3)))  # a new shape retraces
    except AssertionError as e:
        assert "traced > 1 times" in str(e)
    else:
        raise AssertionError("chex.assert_max_traces did not see the retrace")


def test_one_fit_step_is_one_hand_written_optax_step():
    x = np.random.default_rng(0).standard_normal((8, 4)).astype("float32")
    y = np.random.default_rng(1).standard_normal((8, 2)).astype("float32")
    model = kerax.Sequential([kerax.Input((4,)), kerax.layers.Dense(3, activation="tanh"),
                              kerax.layers.Dense(2)])
    model.compile(optimizer=kerax.optimizers.SGD(0.1), loss="mse")
    before = jax.tree_util.tree_map(jnp.asarray, model.variables)

    def loss_fn(params):
        pred, _ = model.apply({"params": params, "state": before["state"]}, x)
        return jnp.mean(jnp.square(pred - y))

    grads = jax.grad(loss_fn)(before["params"])
    tx = optax.sgd(0.1)
    updates, _ = tx.update(grads, tx.init(before["params"]), before["params"])
    expected = optax.apply_updates(before["params"], updates)

    model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    after = dict(model.variables)  # a plain dict, to compare structures with `before`
    chex.assert_trees_all_equal_structs(after, before)
    chex.assert_trees_all_close(after["params"], expected, rtol=1e-5, atol=1e-6)
