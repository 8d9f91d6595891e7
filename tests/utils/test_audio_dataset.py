"""`kerax.utils.audio_dataset_from_directory` on small WAV files made in `tmp_path`.

Keras' version needs TensorFlow (it returns a `tf.data.Dataset` and decodes with
`tf.audio.decode_wav`); its arguments are compared with Keras' signature, and the decoded
values with the scaling `decode_wav` applies (checked once against TensorFlow in a
throwaway environment: 16-bit samples / 32768, `desired_samples` cuts or zero-pads).
"""

import inspect
import wave

import numpy as np
import pytest

import kerax
from kerax.utils.audio_dataset_utils import read_wav


def _write(path, samples, rate=16000, width=2):
    path.parent.mkdir(parents=True, exist_ok=True)
    samples = np.asarray(samples)
    with wave.open(str(path), "wb") as f:
        f.setnchannels(1 if samples.ndim == 1 else samples.shape[1])
        f.setsampwidth(width)
        f.setframerate(rate)
        f.writeframes(samples.astype({1: np.uint8, 2: "<i2", 4: "<i4"}[width]).tobytes())


@pytest.fixture
def audio_dir(tmp_path):
    _write(tmp_path / "no" / "a.wav", [0, 16384, -16384])
    _write(tmp_path / "no" / "b.wav", [100] * 5)
    _write(tmp_path / "yes" / "c.wav", [-32768, 32767])
    return tmp_path


def test_arguments_match_keras(keras):
    ours = inspect.signature(kerax.utils.audio_dataset_from_directory).parameters
    theirs = inspect.signature(keras.utils.audio_dataset_from_directory).parameters
    assert [(n, p.default) for n, p in ours.items()] == \
        [(n, p.default) for n, p in theirs.items()]


def test_batches_are_padded_to_the_longest_clip(audio_dir):
    ds = kerax.utils.audio_dataset_from_directory(audio_dir, shuffle=False, verbose=False)
    audio, labels = ds[0]
    assert ds.class_names == ["no", "yes"]
    assert audio.shape == (3, 5, 1) and audio.dtype == np.float32
    assert labels.tolist() == [0, 0, 1] and labels.dtype == np.int32
    np.testing.assert_array_equal(audio[0, :, 0], [0.0, 0.5, -0.5, 0.0, 0.0])
    np.testing.assert_array_equal(audio[2, :2, 0], [-1.0, 32767 / 32768])


def test_output_sequence_length_cuts_and_pads(audio_dir):
    ds = kerax.utils.audio_dataset_from_directory(
        audio_dir, output_sequence_length=4, batch_size=None, label_mode="categorical",
        shuffle=False, verbose=False)
    shapes = [ds[i][0].shape for i in range(len(ds))]
    assert shapes == [(4, 1)] * 3
    assert ds[2][1].tolist() == [0.0, 1.0]


def test_stereo_and_other_widths(tmp_path):
    _write(tmp_path / "s.wav", np.array([[0, 32767], [-32768, 0]]))
    audio, rate = read_wav(tmp_path / "s.wav")
    assert audio.shape == (2, 2) and rate == 16000
    _write(tmp_path / "u8.wav", [0, 128, 255], width=1)
    np.testing.assert_allclose(read_wav(tmp_path / "u8.wav")[0][:, 0], [-1.0, 0.0, 127 / 128])


def test_validation_split_and_no_labels(audio_dir):
    train, val = kerax.utils.audio_dataset_from_directory(
        audio_dir, validation_split=0.34, subset="both", seed=3, label_mode=None,
        verbose=False)
    assert len(train.file_paths) + len(val.file_paths) == 3
    assert isinstance(val[0], np.ndarray)


@pytest.mark.parametrize("kwargs, match", [
    (dict(sampling_rate=8000.0), "`sampling_rate` should have an integer value"),
    (dict(sampling_rate=0), "`sampling_rate` should be higher than 0"),
    (dict(ragged=True, output_sequence_length=3), "Cannot set both `ragged`"),
    (dict(ragged=True), "kerax's batches are dense"),
    (dict(label_mode="sparse"), "`label_mode` argument must be one of"),
    (dict(labels="folders"), "should be a list/tuple of integer labels"),
])
def test_bad_arguments(audio_dir, kwargs, match):
    with pytest.raises(ValueError, match=match):
        kerax.utils.audio_dataset_from_directory(audio_dir, verbose=False, **kwargs)


def test_a_file_at_another_rate_is_named(audio_dir):
    _write(audio_dir / "yes" / "d.wav", [1, 2], rate=8000)
    ds = kerax.utils.audio_dataset_from_directory(audio_dir, sampling_rate=16000,
                                                  shuffle=False, verbose=False)
    with pytest.raises(ValueError, match=r"d.wav has a sampling rate of 8000 Hz"):
        ds[0]


def test_binary_needs_two_classes(audio_dir):
    _write(audio_dir / "maybe" / "e.wav", [0])
    with pytest.raises(ValueError, match="there must be exactly 2 class_names"):
        kerax.utils.audio_dataset_from_directory(audio_dir, label_mode="binary", verbose=False)


@pytest.mark.parametrize("name", ["text_dataset_from_directory",
                                  "image_dataset_from_directory"])
def test_other_directory_loaders_take_keras_arguments(keras, name, tmp_path):
    ours = inspect.signature(getattr(kerax.utils, name)).parameters
    theirs = inspect.signature(getattr(keras.utils, name)).parameters
    assert [(n, p.default) for n, p in ours.items()] == \
        [(n, p.default) for n, p in theirs.items()]
    with pytest.raises(ValueError, match='`format` should be either "tf" or "grain". '
                                         "Received: format=torch"):
        getattr(kerax.utils, name)(tmp_path, format="torch")
