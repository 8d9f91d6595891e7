"""A GAN written against Keras 3's JAX-backend `train_step` API; it runs unchanged on kerax.

`train_step(self, state, data) -> (logs, state)` receives Keras' flat lists
`(trainable_variables, non_trainable_variables, optimizer_variables, metrics_variables)`.
The generator's latent noise comes from a layer that owns a `keras.random.SeedGenerator`:
its state is one of the non-trainable variables, so it advances through
`stateless_call` exactly as in Keras. One optimizer updates both networks (simultaneous
gradient steps, each from its own loss); the index bookkeeping into the lists is the price
of this API. kerax's own way, one named pytree and two optimizers, is `examples/gan.py`.

Run: python examples/gan_keras_style.py      (or KERAS_BACKEND=jax with `--keras`)
"""

import sys

import jax
import numpy as np


def make_gan(keras, latent_dim=2, data_dim=2):
    """The GAN, built with `keras` (the `keras` or the `kerax` module)."""
    ops = keras.ops

    class LatentNoise(keras.layers.Layer):
        """Ignores its input's values: Gaussian noise with its batch size."""

        def __init__(self, latent_dim, **kwargs):
            super().__init__(**kwargs)
            self.latent_dim = latent_dim
            self.seed_generator = keras.random.SeedGenerator(1337)

        def call(self, x):
            return keras.random.normal((ops.shape(x)[0], self.latent_dim),
                                       seed=self.seed_generator)

        def compute_output_shape(self, input_shape):
            return (input_shape[0], self.latent_dim)

    class GAN(keras.Model):
        def __init__(self, discriminator, generator):
            super().__init__()
            self.discriminator = discriminator
            self.generator = generator
            self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
            self.g_loss_tracker = keras.metrics.Mean(name="g_loss")

        @property
        def metrics(self):
            return [self.d_loss_tracker, self.g_loss_tracker]

        def call(self, x):
            return self.discriminator(self.generator(x))

        def train_step(self, state, data):
            tv, ntv, opt_vars, metric_vars = state
            real = data[0] if isinstance(data, tuple) else data
            nd = len(self.discriminator.trainable_variables)
            nd_nt = len(self.discriminator.non_trainable_variables)
            d_tv, g_tv, d_ntv, g_ntv = tv[:nd], tv[nd:], ntv[:nd_nt], ntv[nd_nt:]
            bce = keras.losses.BinaryCrossentropy(from_logits=True)
            n = ops.shape(real)[0]

            def d_loss_fn(d_tv, g_ntv):
                fake, g_ntv = self.generator.stateless_call(g_tv, g_ntv, real, training=True)
                real_logits, _ = self.discriminator.stateless_call(d_tv, d_ntv, real)
                fake_logits, _ = self.discriminator.stateless_call(d_tv, d_ntv, fake)
                loss = bce(ops.ones((n, 1)), real_logits) + bce(ops.zeros((n, 1)), fake_logits)
                return loss, g_ntv

            def g_loss_fn(g_tv, g_ntv):
                fake, g_ntv = self.generator.stateless_call(g_tv, g_ntv, real, training=True)
                fake_logits, _ = self.discriminator.stateless_call(d_tv, d_ntv, fake)
                return bce(ops.ones((n, 1)), fake_logits), g_ntv

            (d_loss, g_ntv), d_grads = jax.value_and_grad(d_loss_fn, has_aux=True)(d_tv, g_ntv)
            (g_loss, g_ntv), g_grads = jax.value_and_grad(g_loss_fn, has_aux=True)(g_tv, g_ntv)
            tv, opt_vars = self.optimizer.stateless_apply(
                opt_vars, list(d_grads) + list(g_grads), tv)
            k = len(self.d_loss_tracker.variables)
            d_vars = self.d_loss_tracker.stateless_update_state(metric_vars[:k], d_loss)
            g_vars = self.g_loss_tracker.stateless_update_state(metric_vars[k:], g_loss)
            logs = {"d_loss": self.d_loss_tracker.stateless_result(d_vars),
                    "g_loss": self.g_loss_tracker.stateless_result(g_vars)}
            return logs, (tv, list(d_ntv) + list(g_ntv), opt_vars, list(d_vars) + list(g_vars))

    discriminator = keras.Sequential([keras.Input((data_dim,)),
                                      keras.layers.Dense(16, activation="relu"),
                                      keras.layers.Dense(1)], name="discriminator")
    generator = keras.Sequential([keras.Input((data_dim,)), LatentNoise(latent_dim),
                                  keras.layers.Dense(16, activation="relu"),
                                  keras.layers.Dense(data_dim)], name="generator")
    gan = GAN(discriminator, generator)
    gan.compile(optimizer=keras.optimizers.Adam(1e-3))
    return gan


def real_data(n, seed=0):
    """Points on a ring of radius 2: the distribution the generator learns."""
    angle = np.random.default_rng(seed).uniform(0, 2 * np.pi, n)
    return np.stack([2 * np.cos(angle), 2 * np.sin(angle)], axis=1).astype("float32")


if __name__ == "__main__":
    if "--keras" in sys.argv:
        import os

        os.environ.setdefault("KERAS_BACKEND", "jax")
        import keras
    else:
        import kerax as keras
    gan = make_gan(keras)
    gan.fit(real_data(2048), batch_size=64, epochs=20, verbose=2)
    fake = gan.generator.predict(real_data(256, seed=1), verbose=0)
    print("mean radius of generated points:", float(np.linalg.norm(fake, axis=1).mean()))
