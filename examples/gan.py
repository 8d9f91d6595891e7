"""A GAN in kerax: two sub-models, two optimizers, one pure train step over a TrainState.

The kerax way to customize training: override `pure_train_step(ts, batch) -> (ts, logs)`.
`ts` is one named pytree, `TrainState(params, state, opt_state, metric_state, rng, step)`:
`ts.params["generator"]` and `ts.params["discriminator"]` are the two models' parameters
(nested by attribute name), and `ts.opt_state` holds whatever `init_optimizer_state`
returned, here one optax state per optimizer. No variable lists, no index bookkeeping.
`fit` compiles the step once and reports the epoch mean of each log.

Run: python examples/gan.py
"""

import jax
import jax.numpy as jnp
import numpy as np

import kerax as keras


class GAN(keras.Model):
    """Generator + discriminator, trained with their own optimizers."""

    def __init__(self, generator, discriminator, latent_dim):
        super().__init__()
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = latent_dim

    def compile(self, g_optimizer, d_optimizer):
        super().compile()
        self.g_optimizer = keras.optimizers.get(g_optimizer)
        self.d_optimizer = keras.optimizers.get(d_optimizer)

    def init_optimizer_state(self, params):
        return {"generator": self.g_optimizer.init(params["generator"]),
                "discriminator": self.d_optimizer.init(params["discriminator"])}

    def _logits(self, d_params, x):
        return self.discriminator.apply({"params": d_params}, x)[0]

    def _fake(self, g_params, z):
        return self.generator.apply({"params": g_params}, z)[0]

    def pure_train_step(self, ts, batch):
        real, _, _ = batch
        g, d = ts.params["generator"], ts.params["discriminator"]
        rng, k1, k2 = jax.random.split(ts.rng, 3)
        bce = keras.losses.BinaryCrossentropy(from_logits=True)
        n = real.shape[0]

        def d_loss_fn(d):
            fake = self._fake(g, jax.random.normal(k1, (n, self.latent_dim)))
            return (bce(jnp.ones((n, 1)), self._logits(d, real))
                    + bce(jnp.zeros((n, 1)), self._logits(d, fake)))

        d_loss, d_grads = jax.value_and_grad(d_loss_fn)(d)
        d, d_opt = self.d_optimizer.apply(d_grads, ts.opt_state["discriminator"], d)

        def g_loss_fn(g):
            fake = self._fake(g, jax.random.normal(k2, (n, self.latent_dim)))
            return bce(jnp.ones((n, 1)), self._logits(d, fake))  # fool the discriminator

        g_loss, g_grads = jax.value_and_grad(g_loss_fn)(g)
        g, g_opt = self.g_optimizer.apply(g_grads, ts.opt_state["generator"], g)
        ts = ts._replace(params={"generator": g, "discriminator": d},
                         opt_state={"generator": g_opt, "discriminator": d_opt},
                         rng=rng, step=ts.step + 1)
        return ts, {"d_loss": d_loss, "g_loss": g_loss}

    def pure_predict_step(self, ts, z):
        return self._fake(ts.params["generator"], z)


def make_gan(latent_dim=2, data_dim=2):
    generator = keras.Sequential([keras.Input((latent_dim,)),
                                  keras.layers.Dense(16, activation="relu"),
                                  keras.layers.Dense(data_dim)], name="generator")
    discriminator = keras.Sequential([keras.Input((data_dim,)),
                                      keras.layers.Dense(16, activation="relu"),
                                      keras.layers.Dense(1)], name="discriminator")
    gan = GAN(generator, discriminator, latent_dim)
    gan.compile(g_optimizer=keras.optimizers.Adam(1e-3), d_optimizer=keras.optimizers.Adam(1e-3))
    return gan


def real_data(n, seed=0):
    """Points on a ring of radius 2: the distribution the generator learns."""
    angle = np.random.default_rng(seed).uniform(0, 2 * np.pi, n)
    return np.stack([2 * np.cos(angle), 2 * np.sin(angle)], axis=1).astype("float32")


if __name__ == "__main__":
    gan = make_gan()
    gan.fit(real_data(2048), batch_size=64, epochs=20, verbose=2)
    samples = gan.predict(np.random.default_rng(1).normal(size=(256, 2)).astype("float32"))
    print("mean radius of generated points:", float(np.linalg.norm(samples, axis=1).mean()))
