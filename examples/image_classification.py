"""Image classification with a small CNN and data-augmentation layers.

Augmentation is part of the model: `RandomRotation`, `RandomTranslation` and `RandomZoom`
transform each training batch inside the compiled fit loop (their random state advances
with every step) and pass images through unchanged at inference, so `evaluate` and
`predict` see the original images.

By default the images are scikit-learn's bundled digits (8x8, offline), upscaled to
16x16 so that the augmentations have pixels to work with; `--data mnist` uses
`keras.datasets.mnist` (28x28) and `--data cifar10` `keras.datasets.cifar10` (32x32 RGB),
both downloaded once.

Run:  python examples/image_classification.py      (--quick: a few seconds on a CPU)
"""

import argparse

import numpy as np
from sklearn.datasets import load_digits

import kerax as keras


def load_images(data):
    """(x_train, y_train), (x_test, y_test): uint8-range float32 images with channels."""
    if data in ("mnist", "cifar10"):
        (x_train, y_train), (x_test, y_test) = getattr(keras.datasets, data).load_data()
        if x_train.ndim == 3:
            x_train, x_test = x_train[..., None], x_test[..., None]
        return ((x_train.astype("float32"), y_train.reshape(-1)),
                (x_test.astype("float32"), y_test.reshape(-1)))
    x, y = load_digits(return_X_y=True)
    x = np.kron(x.reshape(-1, 8, 8), np.ones((2, 2)))[..., None] * (255.0 / 16.0)
    order = np.random.default_rng(0).permutation(len(x))
    x, y = x[order].astype("float32"), y[order]
    n_test = len(x) // 5
    return (x[n_test:], y[n_test:]), (x[:n_test], y[:n_test])


def build_model(shape, num_classes, filters):
    augment = keras.Sequential([
        keras.layers.RandomRotation(0.05, seed=1),
        keras.layers.RandomTranslation(0.1, 0.1, seed=2),
        keras.layers.RandomZoom(0.1, seed=3),
    ], name="augment")
    return keras.Sequential([
        keras.Input(shape=shape),
        keras.layers.Rescaling(1.0 / 255),
        augment,
        keras.layers.Conv2D(filters, 3, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Conv2D(2 * filters, 3, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Flatten(),
        keras.layers.Dropout(0.2),
        keras.layers.Dense(num_classes, activation="softmax"),
    ])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few epochs, small model")
    parser.add_argument("--data", choices=["digits", "mnist", "cifar10"], default="digits")
    parser.add_argument("--epochs", type=int, default=None)
    args = parser.parse_args(argv)
    keras.utils.set_random_seed(0)

    (x_train, y_train), (x_test, y_test) = load_images(args.data)
    model = build_model(x_train.shape[1:], 10, filters=16 if args.quick else 64)
    model.compile(optimizer=keras.optimizers.Adam(3e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.summary()
    model.fit(x_train, y_train, epochs=args.epochs or (15 if args.quick else 60),
              batch_size=32, validation_split=0.1, verbose=2)

    accuracy = model.evaluate(x_test, y_test, return_dict=True, verbose=0)["accuracy"]
    print(f"test accuracy: {accuracy:.4f}")
    assert accuracy > 0.9, f"test accuracy {accuracy:.4f} should be far above chance (0.1)"
    return accuracy


if __name__ == "__main__":
    main()
