"""Transfer learning and fine-tuning, offline, as keras.io/guides/transfer_learning teaches.

No download: scikit-learn's bundled 8x8 digits are upscaled to 32x32 RGB images. Instead of
ImageNet weights, a small MobileNet is first trained on digits 0-4 and its weights saved to
a local file; a new MobileNet is built from that file (`weights=path`, the same route as a
published `.h5`), frozen, given a new head for digits 5-9, trained, and finally fine-tuned
end to end (`base.trainable = True`) at a low learning rate. The base is called with
`training=False` and its BatchNormalization layers stay frozen while fine-tuning, so their
statistics stay those learned on the source task.

Run:  python examples/transfer_learning.py [--quick]
"""

import argparse
import os
import tempfile

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import kerax as keras

SHAPE = (32, 32, 3)


def load_images():
    """The digits as 32x32 RGB images in [0, 255] (each pixel repeated 4x4 times)."""
    x, y = load_digits(return_X_y=True)
    images = np.kron(x.reshape(-1, 8, 8), np.ones((4, 4))) * (255.0 / 16.0)
    images = np.repeat(images[..., None], 3, axis=-1).astype("float32")
    return keras.applications.mobilenet.preprocess_input(images), y


def make_base(weights=None):
    return keras.applications.MobileNet(input_shape=SHAPE, alpha=0.25, include_top=False,
                                        weights=weights)


def classifier(base, classes, dropout=0.2):
    """`base` (called in inference mode) under a new pooling + softmax head."""
    inputs = keras.Input(SHAPE)
    x = base(inputs, training=False)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dropout(dropout)(x)
    return keras.Model(inputs, keras.layers.Dense(classes, activation="softmax")(x))


def compile_model(model, learning_rate):
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])


def pretrain(x, y, epochs, path):
    """Trains a base on the source task and saves its weights to `path`. The training is
    short, so BatchNormalization's moving statistics follow the batches faster than
    Keras' default momentum (0.99) would let them (the inference-mode base needs them)."""
    base = make_base()
    for layer in base.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = 0.9
    model = classifier(base, 5)
    compile_model(model, 1e-2)
    history = model.fit(x, y, epochs=epochs, batch_size=32, verbose=2)
    base.save_weights(path)
    return history.history["accuracy"][-1]


def main(quick=False):
    keras.utils.set_random_seed(0)
    x, y = load_images()
    source = y < 5
    x_new, y_new = x[~source], y[~source] - 5
    x_train, x_test, y_train, y_test = train_test_split(
        x_new, y_new, test_size=0.3, random_state=0, stratify=y_new)
    epochs = (6, 15, 12) if quick else (12, 30, 30)  # source, new head, fine-tuning

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "base.weights.h5")
        source_accuracy = pretrain(x[source], y[source], epochs[0], path)
        print(f"source task (digits 0-4) training accuracy: {source_accuracy:.3f}")

        base = make_base(weights=path)  # the "pretrained" weights, from a local file
    base.trainable = False
    model = classifier(base, 5)
    compile_model(model, 1e-2)
    model.fit(x_train, y_train, epochs=epochs[1], batch_size=32, verbose=2)
    frozen = model.evaluate(x_test, y_test, return_dict=True, verbose=0)["accuracy"]
    print(f"new head on the frozen base, test accuracy (digits 5-9): {frozen:.3f}")

    base.trainable = True  # fine-tune the base too, slowly...
    for layer in base.layers:  # ...but BatchNormalization stays frozen, in inference mode
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = False
    compile_model(model, 1e-4)
    model.fit(x_train, y_train, epochs=epochs[2], batch_size=32, verbose=2)
    tuned = model.evaluate(x_test, y_test, return_dict=True, verbose=0)["accuracy"]
    print(f"after fine-tuning, test accuracy (digits 5-9): {tuned:.3f}")
    results = {"source": source_accuracy, "frozen": frozen, "fine_tuned": tuned}
    expected = 0.75 if quick else 0.85
    assert tuned >= expected, f"fine-tuned test accuracy below {expected}: {results}"
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer epochs and examples")
    main(quick=parser.parse_args().quick)
