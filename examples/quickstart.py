"""Quickstart: train an MLP on scikit-learn's bundled digits (no download) and test it.

Run:  python examples/quickstart.py
"""

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import kerax as keras


def main(epochs=20):
    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype("float32")
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.2, random_state=0, stratify=y)
    keras.utils.set_random_seed(0)

    model = keras.Sequential([
        keras.Input(shape=(64,)),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dropout(0.2),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.summary()
    model.fit(x_train, y_train, epochs=epochs, batch_size=32, validation_split=0.1, verbose=2)
    results = model.evaluate(x_test, y_test, return_dict=True, verbose=0)
    predictions = model.predict(x_test, verbose=0).argmax(-1)
    print(f"test loss: {results['loss']:.4f}")
    print(f"test accuracy: {results['accuracy']:.4f} "
          f"(predict agrees: {np.mean(predictions == y_test):.4f})")
    return results


if __name__ == "__main__":
    main()
