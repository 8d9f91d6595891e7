"""Resume a killed training run with `BackupAndRestore`, exactly where it stopped.

`keras.callbacks.BackupAndRestore` backs training up to a directory (here every
`--save-freq` batches) and, when `fit` starts again with the same directory, restores it
before the first step. kerax backs up the whole training state: weights, optimizer state,
metric state, the random state (Dropout's masks, the shuffle order) and the position inside
the epoch, so a resumed run ends with exactly the weights of a run that never stopped;
this script checks that. (Keras 3 restores the weights, the optimizer and the epoch,
but not the position inside the epoch nor the random state, so on Keras 3 the resumed
weights differ from the uninterrupted run's and the check fails.)

The crash is simulated by a callback that raises in the middle of an epoch, as a
preempted machine or an out-of-memory error would stop a real job. In a real job the
second `fit` is the same script started again in a new process.

By default the data are scikit-learn's bundled digits (offline); `--data mnist` uses
`keras.datasets.mnist`.

Run:  python examples/resume_training.py           (--quick: a few seconds on a CPU)
"""

import argparse
import os
import tempfile

import numpy as np
from sklearn.datasets import load_digits

import kerax as keras


class SimulatedCrash(Exception):
    """Stands for whatever kills a real run (preemption, out of memory, a bug)."""


class CrashAt(keras.callbacks.Callback):
    """Raises `SimulatedCrash` after batch `batch` of epoch `epoch` (both 0-based)."""

    def __init__(self, epoch, batch):
        super().__init__()
        self.crash_epoch, self.crash_batch, self.epoch = epoch, batch, 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if (self.epoch, batch) == (self.crash_epoch, self.crash_batch):
            raise SimulatedCrash(f"killed after batch {batch} of epoch {self.epoch}")


def load_data(data):
    if data == "mnist":
        (x, y), _ = keras.datasets.mnist.load_data()
        return (x.reshape(len(x), -1) / 255.0).astype("float32"), y
    x, y = load_digits(return_X_y=True)
    return (x / 16.0).astype("float32"), y


def build_model(input_dim, hidden):
    """The same seed gives the same initial weights in every run (and every process)."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input(shape=(input_dim,)),
        keras.layers.Dense(hidden, activation="relu"),
        keras.layers.Dropout(0.3),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few epochs, small model")
    parser.add_argument("--data", choices=["digits", "mnist"], default="digits")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--save-freq", type=int, default=10, help="batches between backups")
    args = parser.parse_args(argv)

    x, y = load_data(args.data)
    epochs = args.epochs or (4 if args.quick else 20)
    hidden = 64 if args.quick else 256
    fit_args = dict(x=x, y=y, batch_size=64, epochs=epochs, shuffle=True, verbose=0)
    steps = -(-len(x) // 64)
    crash_epoch, crash_batch = epochs // 2, steps // 2 + 3  # between two backups

    with tempfile.TemporaryDirectory() as tmp:
        backup_dir = os.path.join(tmp, "backup")

        # 1. A run that is killed in the middle of an epoch.
        model = build_model(x.shape[1], hidden)
        try:
            model.fit(**fit_args, callbacks=[
                keras.callbacks.BackupAndRestore(backup_dir, save_freq=args.save_freq),
                CrashAt(crash_epoch, crash_batch)])
            raise AssertionError("the simulated crash did not happen")
        except SimulatedCrash as crash:
            saved = sorted(n for n in os.listdir(backup_dir) if not n.startswith("."))
            print(f"first run: {crash}; backups in {backup_dir}: {saved}")

        # 2. The same program started again: a fresh model, the same backup directory.
        model = build_model(x.shape[1], hidden)
        history = model.fit(**fit_args, callbacks=[
            keras.callbacks.BackupAndRestore(backup_dir, save_freq=args.save_freq)])
        print(f"resumed run: trained epochs {history.epoch}, "
              f"final accuracy {history.history['accuracy'][-1]:.4f}")

    # 3. The reference: one run that never stopped.
    reference = build_model(x.shape[1], hidden)
    reference_history = reference.fit(**fit_args)
    print(f"uninterrupted run: final accuracy {reference_history.history['accuracy'][-1]:.4f}")

    for resumed, uninterrupted in zip(model.get_weights(), reference.get_weights()):
        np.testing.assert_array_equal(resumed, uninterrupted)
    np.testing.assert_allclose(history.history["loss"][-1],
                               reference_history.history["loss"][-1], rtol=1e-6)
    accuracy = model.evaluate(x, y, return_dict=True, verbose=0)["accuracy"]
    print(f"the resumed weights equal the uninterrupted run's; accuracy: {accuracy:.4f}")
    assert accuracy > 0.8, f"training accuracy {accuracy:.4f} should be high"
    return accuracy


if __name__ == "__main__":
    main()
