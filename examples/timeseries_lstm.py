"""Time-series forecasting with an LSTM: predict the next value of a seasonal series.

The series is generated (a daily and a weekly cycle, a slow trend and noise), so the
script runs offline; `--csv PATH` forecasts one column of your own CSV file instead (for
example the Jena climate recording's temperature, `--column 2`). Sliding windows come
from `keras.utils.timeseries_dataset_from_array` (a `PyDataset` of NumPy batches in
kerax, a `tf.data.Dataset` in Keras; `fit` takes either). The model is judged against
the naive forecast "the next value equals the last one".

Run:  python examples/timeseries_lstm.py            (--quick: a few seconds on a CPU)
"""

import argparse

import numpy as np

import kerax as keras


def generated_series(n=4000, seed=0):
    """A seasonal series: a period-24 and a period-168 cycle, a trend and noise."""
    t = np.arange(n, dtype="float32")
    rng = np.random.default_rng(seed)
    return (np.sin(2 * np.pi * t / 24) + 0.5 * np.sin(2 * np.pi * t / 168)
            + 0.0002 * t + 0.1 * rng.standard_normal(n)).astype("float32")


def csv_series(path, column):
    return np.loadtxt(path, delimiter=",", skiprows=1, usecols=column, dtype="float32")


def windows(series, sequence_length, start, end, batch_size, shuffle):
    """Windows `series[s:s+sequence_length]` (as one feature) -> `series[s+sequence_length]`."""
    return keras.utils.timeseries_dataset_from_array(
        series[:, None], series[sequence_length:], sequence_length=sequence_length,
        batch_size=batch_size, shuffle=shuffle, seed=0,
        start_index=start, end_index=end)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small series, few epochs")
    parser.add_argument("--csv", help="forecast a column of this CSV file instead")
    parser.add_argument("--column", type=int, default=1, help="the CSV column to forecast")
    parser.add_argument("--epochs", type=int, default=None)
    args = parser.parse_args(argv)
    keras.utils.set_random_seed(0)

    if args.csv:
        series = csv_series(args.csv, args.column)
    else:
        series = generated_series(1200 if args.quick else 6000)
    epochs = args.epochs or (4 if args.quick else 20)
    sequence_length = 48
    units = 16 if args.quick else 64

    # Normalize with the training part's statistics only.
    n = len(series) - sequence_length
    n_train, n_val = int(0.7 * n), int(0.15 * n)
    mean, std = series[:n_train].mean(), series[:n_train].std()
    series = (series - mean) / std
    train = windows(series, sequence_length, 0, n_train, 32, shuffle=True)
    val = windows(series, sequence_length, n_train, n_train + n_val, 256, shuffle=False)
    test = windows(series, sequence_length, n_train + n_val, n, 256, shuffle=False)

    model = keras.Sequential([
        keras.Input(shape=(sequence_length, 1)),
        keras.layers.LSTM(units),
        keras.layers.Dense(1),
    ])
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse", metrics=["mae"])
    model.summary()
    model.fit(train, validation_data=val, epochs=epochs, verbose=2)

    mae = model.evaluate(test, return_dict=True, verbose=0)["mae"] * std
    batches = [test[i] for i in range(len(test))]
    last = np.concatenate([x[:, -1, 0] for x, _ in batches])
    target = np.concatenate([y for _, y in batches])
    naive = np.abs(last - target).mean() * std
    print(f"test MAE: {mae:.4f}  (naive last-value forecast: {naive:.4f})")
    assert mae < naive, f"the LSTM ({mae:.4f}) should beat the naive forecast ({naive:.4f})"
    return mae


if __name__ == "__main__":
    main()
