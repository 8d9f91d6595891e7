"""A custom training loop with kerax's pure API: `init`, `apply`, `jax.grad` and optax.

A kerax model is also a pair of pure functions over explicit pytrees:
`variables = model.init(key, x)` gives `{"params": ..., "state": ...}` (state holds the
non-trainable values that the forward pass updates, here BatchNormalization's moving
statistics) and `outputs, state = model.apply(variables, x, training=..., rng=...)`
runs it; randomness (Dropout) comes only from `rng`. So a training loop is plain JAX: one
jitted step that differentiates the loss with `jax.value_and_grad` and updates with optax.
For the usual case `compile`/`fit` does all of this as one XLA program; write the loop
yourself when you need something `fit` does not do.

By default the data are scikit-learn's bundled digits (offline); `--data mnist` uses
`keras.datasets.mnist`.

Run:  python examples/custom_training_loop.py      (--quick: a few seconds on a CPU)
"""

import argparse

import jax
import jax.numpy as jnp
import numpy as np
import optax
from sklearn.datasets import load_digits

import kerax as keras


def load_data(data):
    if data == "mnist":
        (x, y), (x_test, y_test) = keras.datasets.mnist.load_data()
        flat = lambda a: (a.reshape(len(a), -1) / 255.0).astype("float32")
        return (flat(x), y.astype("int32")), (flat(x_test), y_test.astype("int32"))
    x, y = load_digits(return_X_y=True)
    x, y = (x / 16.0).astype("float32"), y.astype("int32")
    order = np.random.default_rng(0).permutation(len(x))
    x, y = x[order], y[order]
    n_test = len(x) // 5
    return (x[n_test:], y[n_test:]), (x[:n_test], y[:n_test])


def build_model(input_dim, hidden):
    return keras.Sequential([
        keras.Input(shape=(input_dim,)),
        keras.layers.Dense(hidden),
        keras.layers.BatchNormalization(),
        keras.layers.Activation("relu"),
        keras.layers.Dropout(0.2),
        keras.layers.Dense(10),  # logits
    ])


def make_steps(model, optimizer):
    """The jitted train step and the jitted prediction, closing over the model."""

    def loss_fn(params, state, x, y, rng):
        logits, new_state = model.apply({"params": params, "state": state}, x,
                                        training=True, rng=rng)
        loss = optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()
        return loss, new_state

    @jax.jit
    def train_step(params, state, opt_state, x, y, rng):
        (loss, state), grads = jax.value_and_grad(loss_fn, has_aux=True)(
            params, state, x, y, rng)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), state, opt_state, loss

    @jax.jit
    def predict(params, state, x):
        logits, _ = model.apply({"params": params, "state": state}, x, training=False)
        return jnp.argmax(logits, axis=-1)

    return train_step, predict


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few epochs, small model")
    parser.add_argument("--data", choices=["digits", "mnist"], default="digits")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args(argv)

    (x_train, y_train), (x_test, y_test) = load_data(args.data)
    model = build_model(x_train.shape[1], hidden=64 if args.quick else 512)
    key = jax.random.PRNGKey(0)
    key, init_key = jax.random.split(key)
    variables = model.init(init_key, x_train[:1])
    params, state = variables["params"], variables["state"]
    print("parameter shapes:", jax.tree_util.tree_map(jnp.shape, params))

    optimizer = optax.adam(1e-3)
    opt_state = optimizer.init(params)
    train_step, predict = make_steps(model, optimizer)

    rng = np.random.default_rng(0)
    batch_size = args.batch_size
    for epoch in range(args.epochs or (8 if args.quick else 30)):
        order = rng.permutation(len(x_train))
        losses = []
        # Full batches only, so the step compiles once (fit pads and masks instead).
        for start in range(0, len(order) - batch_size + 1, batch_size):
            idx = order[start:start + batch_size]
            key, step_key = jax.random.split(key)
            params, state, opt_state, loss = train_step(
                params, state, opt_state, x_train[idx], y_train[idx], step_key)
            losses.append(loss)
        accuracy = float(np.mean(np.asarray(predict(params, state, x_test)) == y_test))
        print(f"epoch {epoch + 1}: loss {float(np.mean(losses)):.4f}, "
              f"test accuracy {accuracy:.4f}")

    moving_mean = state["batch_normalization"]["moving_mean"]
    print(f"BatchNormalization's moving mean, carried through the loop as state: "
          f"{np.asarray(moving_mean[:3]).round(3)}...")
    assert np.abs(np.asarray(moving_mean)).max() > 0, "the state was not updated"
    print(f"test accuracy: {accuracy:.4f}")
    assert accuracy > 0.9, f"test accuracy {accuracy:.4f} should be far above chance (0.1)"
    return accuracy


if __name__ == "__main__":
    main()
