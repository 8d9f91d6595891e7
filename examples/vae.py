"""A variational autoencoder, Keras style: a custom sampling layer and `add_loss`.

The encoder maps an image to the mean and log-variance of a Gaussian over a small latent
space; the `Sampling` layer draws `z` from it with a `keras.random.SeedGenerator` (its
state is a layer variable, so sampling is reproducible and advances inside the compiled
fit loop) and adds the KL divergence to the prior with `self.add_loss`; `fit` minimizes
the reconstruction loss given to `compile` plus that added loss. The same code runs on
Keras 3 (`import keras`).

By default the images are scikit-learn's bundled digits (8x8, offline); `--data mnist`
uses `keras.datasets.mnist`. The script checks that reconstructions beat the best
constant guess (the mean image) and decodes a few samples from the prior.

Run:  python examples/vae.py                       (--quick: a few seconds on a CPU)
"""

import argparse

import numpy as np
from sklearn.datasets import load_digits

import kerax as keras

ops = keras.ops


class Sampling(keras.layers.Layer):
    """Draws `z ~ N(z_mean, exp(z_log_var))` and adds the KL divergence to N(0, 1)."""

    def __init__(self, kl_weight=1.0, seed=1337, **kwargs):
        super().__init__(**kwargs)
        self.kl_weight = kl_weight
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        kl = -0.5 * ops.sum(1 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var), axis=1)
        self.add_loss(self.kl_weight * ops.mean(kl))
        epsilon = keras.random.normal(ops.shape(z_mean), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon

    def get_config(self):
        return {**super().get_config(), "kl_weight": self.kl_weight}


def build_vae(input_dim, latent_dim=2, hidden=128):
    """Returns (vae, decoder): the trainable model and the decoder alone, for sampling."""
    inputs = keras.Input(shape=(input_dim,))
    h = keras.layers.Dense(hidden, activation="relu")(inputs)
    z_mean = keras.layers.Dense(latent_dim, name="z_mean")(h)
    z_log_var = keras.layers.Dense(latent_dim, name="z_log_var")(h)
    z = Sampling(name="sampling")([z_mean, z_log_var])

    decoder = keras.Sequential([
        keras.Input(shape=(latent_dim,)),
        keras.layers.Dense(hidden, activation="relu"),
        keras.layers.Dense(input_dim, activation="sigmoid"),
    ], name="decoder")
    return keras.Model(inputs, decoder(z), name="vae"), decoder


def reconstruction_loss(y_true, y_pred):
    """Binary cross-entropy summed over pixels (the ELBO's likelihood term)."""
    return ops.sum(keras.losses.binary_crossentropy(y_true[..., None], y_pred[..., None]),
                   axis=-1)


def load_images(data):
    if data == "mnist":
        (x_train, _), (x_test, _) = keras.datasets.mnist.load_data()
        x = np.concatenate([x_train, x_test]).reshape(-1, 784) / 255.0
    else:
        x = load_digits().data / 16.0
    return x.astype("float32")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few epochs")
    parser.add_argument("--data", choices=["digits", "mnist"], default="digits")
    parser.add_argument("--epochs", type=int, default=None)
    args = parser.parse_args(argv)
    keras.utils.set_random_seed(0)

    x = load_images(args.data)
    x = x[np.random.default_rng(0).permutation(len(x))]
    n_test = len(x) // 5
    x_train, x_test = x[n_test:], x[:n_test]

    vae, decoder = build_vae(x.shape[1], latent_dim=2 if args.quick else 8)
    vae.compile(optimizer=keras.optimizers.Adam(2e-3), loss=reconstruction_loss)
    vae.summary()
    vae.fit(x_train, x_train, epochs=args.epochs or (20 if args.quick else 100),
            batch_size=32, verbose=2)

    # evaluate's loss is the reconstruction term plus the KL term added by Sampling.
    elbo_loss = vae.evaluate(x_test, x_test, verbose=0)
    mean_image = np.clip(x_train.mean(0), 1e-7, 1 - 1e-7)
    baseline = float(ops.mean(reconstruction_loss(x_test, np.broadcast_to(mean_image,
                                                                         x_test.shape))))
    # Deterministic reconstructions: decode each test image's posterior mean.
    encoder = keras.Model(vae.inputs, vae.get_layer("z_mean").output)
    reconstructed = decoder.predict(encoder.predict(x_test, verbose=0), verbose=0)
    mse = np.mean((reconstructed - x_test) ** 2)
    mean_mse = np.mean((mean_image - x_test) ** 2)
    samples = decoder.predict(np.random.default_rng(1).standard_normal(
        (4, decoder.input_shape[-1])).astype("float32"), verbose=0)
    print(f"test negative ELBO: {elbo_loss:.2f} per image (mean image: {baseline:.2f}); "
          f"reconstruction MSE: {mse:.4f} (mean image: {mean_mse:.4f}); "
          f"{len(samples)} samples decoded from the prior")
    assert elbo_loss < baseline, "the VAE should beat reconstructing every image as the mean"
    assert mse < 0.7 * mean_mse, "reconstructions should be much closer than the mean image"
    return elbo_loss


if __name__ == "__main__":
    main()
