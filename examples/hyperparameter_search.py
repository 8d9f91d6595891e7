"""Hyperparameter search with `kerax.tuner` (keras-tuner's API, for kerax models).

A `build(hp)` function defines the search space (`hp.Choice`, `hp.Float`) and returns a
compiled model; `RandomSearch` tries `max_trials` points of it, each trained by `fit` with
the arguments given to `search`, and keeps the best by the objective. Results are stored
as keras-tuner stores them, so a search started again with `overwrite=False` resumes
where it stopped.

`search(..., population=8)` hands out 8 trials at a time and trains those whose models
have the same shapes (here: the same width) together, in one compiled program: their
learning rates and dropout rates differ per trial, everything else is shared. Each trial
gets the results it would get trained alone after
`keras.utils.set_random_seed(tuner.trial_seed(trial))`.

By default the data are scikit-learn's bundled digits (offline); `--data mnist` uses
`keras.datasets.mnist`.

Run:  python examples/hyperparameter_search.py     (--quick: under a minute on a CPU)
"""

import argparse
import tempfile

import numpy as np
from sklearn.datasets import load_digits

import kerax as keras
from kerax import tuner as kt


def load_data(data):
    if data == "mnist":
        (x, y), (x_test, y_test) = keras.datasets.mnist.load_data()
        flat = lambda a: (a.reshape(len(a), -1) / 255.0).astype("float32")
        return (flat(x), y), (flat(x_test), y_test)
    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype("float32")
    order = np.random.default_rng(0).permutation(len(x))
    x, y = x[order], y[order]
    n_test = len(x) // 5
    return (x[n_test:], y[n_test:]), (x[:n_test], y[:n_test])


def make_build(input_dim):
    """`build(hp)` for `input_dim` features; the search space: width (which decides the
    shapes, hence the groups), dropout and learning rate (which vary inside a group)."""

    def build(hp):
        model = keras.Sequential([
            keras.Input(shape=(input_dim,)),
            keras.layers.Dense(hp.Choice("units", [64, 128]), activation="relu"),
            keras.layers.Dropout(hp.Float("dropout", 0.1, 0.5, step=0.1)),
            keras.layers.Dense(10, activation="softmax"),
        ])
        model.compile(optimizer=keras.optimizers.Adam(
                          hp.Float("learning_rate", 1e-3, 1e-2, sampling="log")),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    return build


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few trials, few epochs")
    parser.add_argument("--data", choices=["digits", "mnist"], default="digits")
    parser.add_argument("--trials", type=int, default=None)
    parser.add_argument("--population", type=int, default=8,
                        help="trials handed out (and trained together) at a time")
    args = parser.parse_args(argv)
    keras.utils.set_random_seed(0)

    (x_train, y_train), (x_test, y_test) = load_data(args.data)
    with tempfile.TemporaryDirectory() as directory:
        tuner = kt.RandomSearch(make_build(x_train.shape[1]), objective="val_accuracy",
                                max_trials=args.trials or (4 if args.quick else 24),
                                seed=0, directory=directory, project_name="digits")
        tuner.search_space_summary()
        tuner.search(x_train, y_train, epochs=5 if args.quick else 30,
                     validation_split=0.2, verbose=0, population=args.population)
        tuner.results_summary(num_trials=3)
        best_hp = tuner.get_best_hyperparameters(1)[0]
        best = tuner.get_best_models(1)[0]

    accuracy = best.evaluate(x_test, y_test, return_dict=True, verbose=0)["accuracy"]
    print(f"best hyperparameters: {best_hp.values}")
    print(f"best model's test accuracy: {accuracy:.4f}")
    assert accuracy > 0.85, f"the best model's test accuracy {accuracy:.4f} should be high"
    return accuracy


if __name__ == "__main__":
    main()
