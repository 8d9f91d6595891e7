"""Log training to TensorBoard, without TensorFlow, and read the logs back.

`keras.callbacks.TensorBoard` writes event files in Keras 3's layout (`log_dir/train`,
`log_dir/validation`; tags `epoch_loss`, `epoch_accuracy`, `epoch_learning_rate`, and
with `histogram_freq` each weight's histogram) through the small `tensorboardX` package
(`pip install tensorboardX`). View them with `tensorboard --logdir LOG_DIR`. This script
also reads the files back (they are TFRecord files of `Event` protos) and checks that the
logged training loss went down.

By default the data are scikit-learn's bundled digits (offline); `--data mnist` uses
`keras.datasets.mnist`.

Run:  python examples/tensorboard_logging.py [--log-dir logs]   (--quick: seconds)
"""

import argparse
import glob
import os
import struct
import tempfile

import numpy as np
from sklearn.datasets import load_digits
from tensorboardX.proto import event_pb2

import kerax as keras


def load_data(data):
    if data == "mnist":
        (x, y), _ = keras.datasets.mnist.load_data()
        return (x.reshape(len(x), -1) / 255.0).astype("float32"), y
    x, y = load_digits(return_X_y=True)
    return (x / 16.0).astype("float32"), y


def read_scalars(run_dir):
    """{tag: [(step, value), ...]} from the event files in `run_dir`."""
    scalars = {}
    for path in sorted(glob.glob(os.path.join(run_dir, "events.out.tfevents.*"))):
        with open(path, "rb") as f:
            while header := f.read(12):  # length (8 bytes) + its crc (4 bytes)
                (length,) = struct.unpack("<Q", header[:8])
                event = event_pb2.Event.FromString(f.read(length))
                f.read(4)  # the data's crc
                for value in event.summary.value:
                    if value.HasField("simple_value"):
                        scalars.setdefault(value.tag, []).append(
                            (event.step, value.simple_value))
    return scalars


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few epochs")
    parser.add_argument("--data", choices=["digits", "mnist"], default="digits")
    parser.add_argument("--log-dir", default=None, help="keep the logs here (default: a "
                                                         "temporary directory)")
    parser.add_argument("--epochs", type=int, default=None)
    args = parser.parse_args(argv)
    keras.utils.set_random_seed(0)

    x, y = load_data(args.data)
    model = keras.Sequential([
        keras.Input(shape=(x.shape[1],)),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    with tempfile.TemporaryDirectory() as tmp:
        log_dir = args.log_dir or tmp
        model.fit(x, y, epochs=args.epochs or (10 if args.quick else 30), batch_size=64,
                  validation_split=0.2, verbose=2,
                  callbacks=[keras.callbacks.TensorBoard(log_dir, histogram_freq=1)])
        train, validation = (read_scalars(os.path.join(log_dir, run))
                             for run in ("train", "validation"))

    print(f"train tags: {sorted(train)}; validation tags: {sorted(validation)}")
    losses = [value for _, value in train["epoch_loss"]]
    accuracy = validation["epoch_accuracy"][-1][1]
    print(f"logged epoch_loss: {np.round(losses, 4).tolist()}")
    print(f"last logged validation accuracy: {accuracy:.4f}")
    assert len(losses) == len(validation["epoch_loss"]) > 1
    assert losses[-1] < losses[0], "the logged training loss should go down"
    assert accuracy > 0.8, f"validation accuracy {accuracy:.4f} should be high"
    return accuracy


if __name__ == "__main__":
    main()
