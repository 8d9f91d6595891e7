"""`text_dataset_from_directory`: `.txt` files in class folders, as NumPy batches."""

import numpy as np

from kerax.utils import dataset_utils


def _stack_strings(texts):
    out = np.empty(len(texts), dtype=object)
    out[:] = texts
    return out


def _read_text(path, max_length):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    return text if max_length is None else text[:max_length]


def text_dataset_from_directory(
    directory,
    labels="inferred",
    label_mode="int",
    class_names=None,
    batch_size=32,
    max_length=None,
    shuffle=True,
    seed=None,
    validation_split=None,
    subset=None,
    follow_links=False,
    format="tf",
    verbose=True,
):
    """Generates batches of texts (and labels) from `.txt` files in a directory.

    With `labels="inferred"`, each subdirectory of `directory` is a class. Keras
    returns a `tf.data.Dataset` of `tf.string` tensors; kerax returns a `PyDataset`
    whose text batches are NumPy object arrays of Python `str` (as Keras' Grain format
    yields strings), files in the same order as Keras for the same `seed`; a new order
    is drawn at the end of every epoch when `shuffle=True`.

    Args:
        directory: the data directory.
        labels: `"inferred"`, None (texts only), or a list of integer labels, one per
            file in sorted path order.
        label_mode: `"int"` (`int32`), `"categorical"` (`float32` one-hot),
            `"binary"` (`float32`, shape `(batch, 1)`; exactly 2 classes), or None.
        class_names: the subdirectories to use, in label order.
        batch_size: texts per batch, or None for single texts.
        max_length: keep at most this many characters of each text.
        shuffle: whether to shuffle the files.
        seed: the shuffle's seed (required with `validation_split` and shuffling).
        validation_split: fraction of the files held out for validation.
        subset: `"training"`, `"validation"` or `"both"` (returns both datasets).
        follow_links: whether to follow symbolic links to subdirectories.
        format: `"tf"` (Keras' default) or `"grain"`: either way kerax returns its
            own `PyDataset` of NumPy batches (there is no tf.data here).
        verbose: print how many files and classes were found.

    Returns:
        A `PyDataset` yielding `(texts, labels)` (`texts` alone when `label_mode` is
        None), with a `class_names` attribute; a list `[train, validation]` when
        `subset="both"`.

    Example:
    >>> import os, tempfile
    >>> root = tempfile.mkdtemp()
    >>> for label, text in (("neg", "bad film"), ("pos", "great film")):
    ...     os.makedirs(os.path.join(root, label))
    ...     with open(os.path.join(root, label, "0.txt"), "w") as f:
    ...         _ = f.write(text)
    >>> ds = text_dataset_from_directory(root, shuffle=False, verbose=False)
    >>> texts, labels = ds[0]
    >>> list(texts), labels
    (['bad film', 'great film'], array([0, 1], dtype=int32))
    """
    if format not in ("tf", "grain"):
        raise ValueError('`format` should be either "tf" or "grain". '
                         f"Received: format={format}")
    if labels not in ("inferred", None) and not isinstance(labels, (list, tuple)):
        raise ValueError(
            '`labels` must be "inferred", None, or a list/tuple of integer labels (one '
            f"per text file, in sorted path order). Received: labels={labels!r}."
        )
    if isinstance(labels, (list, tuple)) and class_names:
        raise ValueError('`class_names` can only be passed with labels="inferred".')
    if label_mode not in ("int", "categorical", "binary", None):
        raise ValueError(
            f'`label_mode` must be "int", "categorical", "binary" or None. Received: label_mode={label_mode!r}.'
        )
    if labels is None or label_mode is None:
        labels, label_mode = None, None
    dataset_utils.check_validation_split_arg(validation_split, subset, shuffle, seed)
    seed = np.random.randint(1e6) if seed is None else seed
    paths, labels, class_names = dataset_utils.index_directory(
        directory, labels, (".txt",), class_names, shuffle, seed, follow_links, verbose
    )
    if label_mode == "binary" and len(class_names) != 2:
        raise ValueError(f'label_mode="binary" needs exactly 2 classes. Received: class_names={class_names}.')

    def make(subset_name, shuffle_epochs):
        p, y = dataset_utils.get_training_or_validation_split(paths, labels, validation_split, subset_name)
        if not p:
            raise ValueError(f"No text files found in directory {directory!r}. Allowed format: .txt")
        if y is not None:
            y = dataset_utils.encode_labels(y, label_mode, len(class_names))
        ds = dataset_utils.SampleBatches(
            len(p), lambda i: _read_text(p[i], max_length), y, batch_size, shuffle_epochs, seed, stack=_stack_strings
        )
        ds.class_names, ds.file_paths = class_names, list(p)
        return ds

    if subset == "both":
        return [make("training", shuffle), make("validation", False)]
    return make(subset, shuffle)
