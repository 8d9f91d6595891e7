"""`audio_dataset_from_directory`: `.wav` files in class folders, as NumPy batches.

Keras decodes with `tf.audio.decode_wav` (float32 in [-1, 1), shape `(samples,
channels)`); here the stdlib `wave` module reads the PCM frames and NumPy scales them
the same way (8-bit unsigned, 16-bit and 32-bit signed PCM).
"""

import wave

import numpy as np

from kerax.utils import dataset_utils

ALLOWED_FORMATS = (".wav",)
_SCALE = {1: (np.uint8, 128.0, 128.0), 2: ("<i2", 0.0, 32768.0), 4: ("<i4", 0.0, 2.0 ** 31)}


def read_wav(path, output_sequence_length=None):
    """`(audio, rate)`: a WAV file as float32 `(samples, channels)` in [-1, 1), cut or
    zero-padded to `output_sequence_length` samples (`tf.audio.decode_wav`'s
    `desired_samples`).

    Example:
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "a.wav")
    >>> with wave.open(path, "wb") as w:
    ...     w.setnchannels(1); w.setsampwidth(2); w.setframerate(8000)
    ...     w.writeframes(np.array([0, 16384, -32768], "<i2").tobytes())
    >>> read_wav(path, 4)[0][:, 0].tolist()
    [0.0, 0.5, -1.0, 0.0]
    """
    with wave.open(str(path), "rb") as f:
        width, channels, rate = f.getsampwidth(), f.getnchannels(), f.getframerate()
        frames = f.readframes(f.getnframes())
    if width not in _SCALE:
        raise ValueError(f"Cannot read {path}: {8 * width}-bit samples; supported are 8-, "
                         "16- and 32-bit PCM WAV files.")
    dtype, offset, scale = _SCALE[width]
    audio = ((np.frombuffer(frames, dtype).astype(np.float32) - offset) / scale)
    audio = audio.reshape(-1, channels)
    if output_sequence_length is not None:
        audio = audio[:output_sequence_length]
        audio = np.pad(audio, ((0, output_sequence_length - len(audio)), (0, 0)))
    return audio, rate


def _pad_stack(audios):
    """Keras' `padded_batch`: zero-pad each clip to the batch's longest."""
    longest = max(len(a) for a in audios)
    return np.stack([np.pad(a, ((0, longest - len(a)), (0, 0))) for a in audios])


def audio_dataset_from_directory(
    directory,
    labels="inferred",
    label_mode="int",
    class_names=None,
    batch_size=32,
    sampling_rate=None,
    output_sequence_length=None,
    ragged=False,
    shuffle=True,
    seed=None,
    validation_split=None,
    subset=None,
    follow_links=False,
    verbose=True,
):
    """Generates batches of audio clips (and labels) from `.wav` files in a directory.

    With `labels="inferred"`, each subdirectory of `directory` is a class. Keras
    returns a `tf.data.Dataset`; kerax returns a `PyDataset` of NumPy batches: float32
    audio of shape `(batch, samples, channels)` (zero-padded to the batch's longest clip,
    or cut/padded to `output_sequence_length`), with the files in Keras' order.

    Args:
        directory: the data directory.
        labels: `"inferred"`, None (audio only), or a list of integer labels, one per
            file in sorted path order.
        label_mode: `"int"`, `"categorical"`, `"binary"` or None.
        class_names: the subdirectories to use, in label order.
        batch_size: clips per batch, or None for single clips.
        sampling_rate: the rate the files must have (Keras resamples with
            tensorflow-io; kerax checks it and says which file differs).
        output_sequence_length: cut or zero-pad every clip to this many samples.
        ragged: must be False (kerax's batches are dense arrays).
        shuffle, seed, validation_split, subset, follow_links, verbose: as in
            `text_dataset_from_directory`.

    Returns:
        A `PyDataset` yielding `(audio, labels)` (audio alone without labels), with
        `class_names`; a list `[train, validation]` when `subset="both"`.

    Example:
    >>> import os, tempfile
    >>> root = tempfile.mkdtemp()
    >>> for label, n in (("no", 3), ("yes", 5)):
    ...     os.makedirs(os.path.join(root, label))
    ...     with wave.open(os.path.join(root, label, "0.wav"), "wb") as w:
    ...         w.setnchannels(1); w.setsampwidth(2); w.setframerate(16000)
    ...         w.writeframes(np.zeros(n, "<i2").tobytes())
    >>> ds = audio_dataset_from_directory(root, shuffle=False, verbose=False)
    >>> audio, y = ds[0]
    >>> audio.shape, y.tolist()
    ((2, 5, 1), [0, 1])
    """
    if labels not in ("inferred", None):
        if not isinstance(labels, (list, tuple)):
            raise ValueError(
                "The `labels` argument should be a list/tuple of integer labels, of the same "
                "size as the number of audio files in the target directory. If you wish to "
                "infer the labels from the subdirectory names in the target directory, pass "
                '`labels="inferred"`. If you wish to get a dataset that only contains audio '
                f"samples (no labels), pass `labels=None`. Received: labels={labels}")
        if class_names:
            raise ValueError('You can only pass `class_names` if `labels="inferred"`. '
                             f"Received: labels={labels}, and class_names={class_names}")
    if label_mode not in {"int", "categorical", "binary", None}:
        raise ValueError('`label_mode` argument must be one of "int", "categorical", '
                         f'"binary", or None. Received: label_mode={label_mode}')
    if ragged and output_sequence_length is not None:
        raise ValueError("Cannot set both `ragged` and `output_sequence_length`")
    if ragged:
        raise ValueError("`ragged=True` needs TensorFlow's ragged tensors; kerax's batches "
                         "are dense. Use `ragged=False` (clips are zero-padded to the "
                         "batch's longest) or set `output_sequence_length`.")
    if sampling_rate is not None:
        if not isinstance(sampling_rate, int):
            raise ValueError("`sampling_rate` should have an integer value. "
                             f"Received: sampling_rate={sampling_rate}")
        if sampling_rate <= 0:
            raise ValueError("`sampling_rate` should be higher than 0. "
                             f"Received: sampling_rate={sampling_rate}")
    if labels is None or label_mode is None:
        labels, label_mode = None, None
    dataset_utils.check_validation_split_arg(validation_split, subset, shuffle, seed)
    seed = np.random.randint(1e6) if seed is None else seed
    paths, labels, class_names = dataset_utils.index_directory(
        directory, labels, ALLOWED_FORMATS, class_names, shuffle, seed, follow_links, verbose)
    if label_mode == "binary" and len(class_names) != 2:
        raise ValueError('When passing `label_mode="binary"`, there must be exactly 2 '
                         f"class_names. Received: class_names={class_names}")

    def load(path):
        audio, rate = read_wav(path, output_sequence_length)
        if sampling_rate is not None and rate != sampling_rate:
            raise ValueError(
                f"{path} has a sampling rate of {rate} Hz, not the requested "
                f"sampling_rate={sampling_rate}. kerax does not resample (Keras does, with "
                "tensorflow-io): resample the files, or pass their rate (or None).")
        return audio

    def make(subset_name, shuffle_epochs):
        p, y = dataset_utils.get_training_or_validation_split(paths, labels, validation_split,
                                                              subset_name)
        if not p:
            raise ValueError(f"No audio files found in directory {directory}. "
                             f"Allowed format(s): {ALLOWED_FORMATS}")
        if y is not None:
            y = dataset_utils.encode_labels(y, label_mode, len(class_names))
        ds = dataset_utils.SampleBatches(len(p), lambda i: load(p[i]), y, batch_size,
                                         shuffle_epochs, seed, stack=_pad_stack)
        ds.class_names, ds.file_paths = class_names, list(p)
        return ds

    if subset == "both":
        return [make("training", shuffle), make("validation", False)]
    return make(subset, shuffle)
