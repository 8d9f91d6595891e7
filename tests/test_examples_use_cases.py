"""The use-case examples in examples/ run end to end on their `--quick` path: each script
trains, prints its final metric and asserts that the metric is reasonable, so a non-zero
exit code means an example broke (an API it uses changed, or it stopped learning)."""

import importlib.util
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import kerax

_ROOT = pathlib.Path(__file__).resolve().parents[1]


def _module(script):
    spec = importlib.util.spec_from_file_location(script[:-3], _ROOT / "examples" / script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(script, *args):
    # PYTHONPATH: the script imports this checkout's kerax, not another installed copy
    # (a script's own folder, not the repository root, is first on its sys.path).
    path = os.pathsep.join(p for p in (str(_ROOT), os.environ.get("PYTHONPATH")) if p)
    env = dict(os.environ, KERAS_BACKEND="jax", PYTHONPATH=path)
    result = subprocess.run(
        [sys.executable, str(_ROOT / "examples" / script), "--quick", *args],
        cwd=_ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, (
        f"examples/{script} --quick exited with {result.returncode}:\n"
        f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result.stdout


# (script, what its last lines print, an optional package it needs); the slow ones take
# more than ~15 s on 2 cores.
_SLOW = pytest.mark.slow
SCRIPTS = [
    pytest.param("timeseries_lstm.py", "test MAE:", None, marks=_SLOW),
    pytest.param("autoencoder.py", "of the noise removed", None, marks=_SLOW),
    pytest.param("vae.py", "test negative ELBO:", None, marks=_SLOW),
    pytest.param("text_classification.py", "test accuracy:", None),
    pytest.param("resume_training.py", "the resumed weights equal the uninterrupted run's",
                 None, marks=_SLOW),
    pytest.param("image_classification.py", "test accuracy:", None, marks=_SLOW),
    pytest.param("custom_training_loop.py", "test accuracy:", None),
    pytest.param("distributed_training.py", "the three runs end with the same weights", None,
                 marks=_SLOW),
    pytest.param("export_and_serve.py", "equal to model.predict", None, marks=_SLOW),
    pytest.param("text_transformer.py", "test accuracy:", None, marks=_SLOW),
    pytest.param("hyperparameter_search.py", "best model's test accuracy:", None, marks=_SLOW),
    pytest.param("tensorboard_logging.py", "logged epoch_loss:", "tensorboardX"),
]


@pytest.mark.parametrize("script,prints,needs", SCRIPTS,
                         ids=[p.values[0][:-3] for p in SCRIPTS])
def test_example_runs_and_reports_its_metric(script, prints, needs):
    if needs:
        pytest.importorskip(needs)
    assert prints in _run(script)


# The `--data mnist` / `--data imdb` paths call the real kerax.datasets loaders (which
# download); here the loaders are replaced by small fakes of the same format, to check
# that each example turns their output into what its model expects.

def _fake_mnist():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(12, 28, 28), dtype=np.uint8)
    y = rng.integers(0, 10, size=12, dtype=np.uint8)
    return (x[:8], y[:8]), (x[8:], y[8:])


@pytest.mark.parametrize("script", ["autoencoder.py", "vae.py", "resume_training.py"])
def test_mnist_flag_feeds_the_model(script, monkeypatch):
    monkeypatch.setattr(kerax.datasets.mnist, "load_data", _fake_mnist)
    example = _module(script)
    if script == "resume_training.py":
        x, y = example.load_data("mnist")
        assert x.shape == (8, 784) and y.shape == (8,)
    else:
        x = example.load_images("mnist")
        expected = (12, 32, 32, 1) if script == "autoencoder.py" else (12, 784)
        assert x.shape == expected
    assert x.dtype == np.float32 and 0.0 <= x.min() and x.max() <= 1.0
    if script == "autoencoder.py":
        assert example.build_autoencoder(x.shape[1:]).output_shape == (None, 32, 32, 1)


def test_imdb_flag_decodes_reviews_to_strings(monkeypatch):
    index = {"good": 1, "movie": 2, "bad": 3}
    # Keras' format: 1 starts a review, 2 is an out-of-vocabulary word, a word is its
    # index + 3.
    data = np.array([[1, 5, 4], [1, 6, 2, 5]], dtype=object)
    monkeypatch.setattr(kerax.datasets.imdb, "load_data",
                        lambda num_words=None: ((data, np.array([1, 0])),
                                                (data[:1], np.array([1]))))
    monkeypatch.setattr(kerax.datasets.imdb, "get_word_index", lambda: index)
    texts, labels = _module("text_classification.py").imdb_reviews()
    assert texts.tolist() == ["movie good", "bad movie", "movie good"]
    assert labels.tolist() == [1.0, 0.0, 1.0]


def test_timeseries_csv_flag_reads_one_column(tmp_path):
    path = tmp_path / "series.csv"
    path.write_text("time,value\n0,1.5\n1,2.5\n2,-1.0\n")
    series = _module("timeseries_lstm.py").csv_series(str(path), 1)
    assert series.dtype == np.float32 and series.tolist() == [1.5, 2.5, -1.0]


def test_image_classification_dataset_flags_feed_the_model(monkeypatch):
    rng = np.random.default_rng(0)
    fake_cifar = lambda: ((rng.integers(0, 256, (4, 32, 32, 3), np.uint8),
                           rng.integers(0, 10, (4, 1), np.uint8)),
                          (rng.integers(0, 256, (2, 32, 32, 3), np.uint8),
                           rng.integers(0, 10, (2, 1), np.uint8)))
    monkeypatch.setattr(kerax.datasets.mnist, "load_data", _fake_mnist)
    monkeypatch.setattr(kerax.datasets.cifar10, "load_data", fake_cifar)
    example = _module("image_classification.py")
    for data, shape in (("mnist", (28, 28, 1)), ("cifar10", (32, 32, 3)),
                        ("digits", (16, 16, 1))):
        (x_train, y_train), (x_test, y_test) = example.load_images(data)
        assert x_train.shape[1:] == x_test.shape[1:] == shape, data
        assert y_train.ndim == y_test.ndim == 1 and x_train.dtype == np.float32
        assert 0 <= x_train.min() and x_train.max() <= 255
        model = example.build_model(shape, 10, filters=4)
        assert model.predict(x_test[:2], verbose=0).shape == (2, 10)


