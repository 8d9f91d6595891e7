"""A convolutional denoising autoencoder: learn to remove noise from 8x8 digit images.

By default the images are scikit-learn's bundled digits (8x8, ships offline);
`--data mnist` uses `keras.datasets.mnist` (28x28, downloaded once) instead. Inputs are
the clean images plus Gaussian noise, targets the clean images; the script reports how
much of the noise the trained model removes on held-out images.

Run:  python examples/autoencoder.py               (--quick: a few seconds on a CPU)
"""

import argparse

import numpy as np
from sklearn.datasets import load_digits

import kerax as keras


def load_images(data):
    """Images as float32 in [0, 1] with a channel axis: (n, h, w, 1), h and w even."""
    if data == "mnist":
        (x_train, _), (x_test, _) = keras.datasets.mnist.load_data()
        x = np.concatenate([x_train, x_test]) / 255.0
        x = np.pad(x, ((0, 0), (2, 2), (2, 2)))  # 32x32, divisible by 4
    else:
        x = load_digits().images / 16.0
    return x[..., None].astype("float32")


def build_autoencoder(shape, filters=16):
    inputs = keras.Input(shape=shape)
    x = keras.layers.Conv2D(filters, 3, padding="same", activation="relu")(inputs)
    x = keras.layers.MaxPooling2D(2)(x)
    x = keras.layers.Conv2D(2 * filters, 3, padding="same", activation="relu")(x)
    encoded = keras.layers.MaxPooling2D(2)(x)
    x = keras.layers.Conv2DTranspose(2 * filters, 3, strides=2, padding="same",
                                     activation="relu")(encoded)
    x = keras.layers.Conv2DTranspose(filters, 3, strides=2, padding="same",
                                     activation="relu")(x)
    outputs = keras.layers.Conv2D(1, 3, padding="same", activation="sigmoid")(x)
    return keras.Model(inputs, outputs, name="denoiser")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few epochs, small model")
    parser.add_argument("--data", choices=["digits", "mnist"], default="digits")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--noise", type=float, default=0.3, help="the noise's stddev")
    args = parser.parse_args(argv)
    keras.utils.set_random_seed(0)

    x = load_images(args.data)
    rng = np.random.default_rng(0)
    x = x[rng.permutation(len(x))]
    noisy = np.clip(x + args.noise * rng.standard_normal(x.shape), 0, 1).astype("float32")
    n_test = len(x) // 5
    x_train, x_test = x[n_test:], x[:n_test]
    noisy_train, noisy_test = noisy[n_test:], noisy[:n_test]

    model = build_autoencoder(x.shape[1:], filters=16 if args.quick else 32)
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="mse")
    model.summary()
    model.fit(noisy_train, x_train, epochs=args.epochs or (25 if args.quick else 100),
              batch_size=32, validation_split=0.1, verbose=2)

    denoised = model.predict(noisy_test, verbose=0)
    noisy_mse = np.mean((noisy_test - x_test) ** 2)
    denoised_mse = np.mean((denoised - x_test) ** 2)
    print(f"test MSE: noisy input {noisy_mse:.4f}, denoised {denoised_mse:.4f} "
          f"({100 * (1 - denoised_mse / noisy_mse):.0f}% of the noise removed)")
    assert denoised_mse < 0.6 * noisy_mse, "the autoencoder should remove most of the noise"
    return denoised_mse


if __name__ == "__main__":
    main()
