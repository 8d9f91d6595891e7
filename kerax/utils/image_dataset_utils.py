"""`image_dataset_from_directory`: image files in class folders, as NumPy batches.

Images are decoded with Pillow (an optional dependency: `pip install pillow`) and
resized in NumPy with the same numerics as Keras 3 on JAX (`jax.image.resize` without
antialiasing: half-pixel centres), so data loading never touches an accelerator and
works in worker processes.
"""

import numpy as np

from kerax.backend.config import image_data_format
from kerax.utils import dataset_utils

ALLOWLIST_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
INTERPOLATIONS = ("bilinear", "nearest", "bicubic", "lanczos3", "lanczos5")


def _lanczos(radius):
    def kernel(x):
        with np.errstate(divide="ignore", invalid="ignore"):
            y = radius * np.sin(np.pi * x) * np.sin(np.pi * x / radius) / (np.pi**2 * x**2)
        return np.where(x > radius, 0.0, np.where(x > 1e-3, y, 1.0))

    return kernel


def _keys_cubic(x):
    out = np.where(x >= 1.0, ((-0.5 * x + 2.5) * x - 4.0) * x + 2.0, ((1.5 * x - 2.5) * x) * x + 1.0)
    return np.where(x >= 2.0, 0.0, out)


_KERNELS = {
    "bilinear": lambda x: np.maximum(0.0, 1.0 - np.abs(x)),
    "bicubic": _keys_cubic,
    "lanczos3": _lanczos(3.0),
    "lanczos5": _lanczos(5.0),
}


def _weights(in_size, out_size, kernel):
    """The (in_size, out_size) interpolation matrix of one axis."""
    sample = (np.arange(out_size, dtype=np.float32) + 0.5) * np.float32(in_size / out_size) - 0.5
    w = kernel(np.abs(sample[None, :] - np.arange(in_size, dtype=np.float32)[:, None]))
    total = w.sum(axis=0, keepdims=True)
    w = np.where(np.abs(total) > 1000 * np.finfo(np.float32).eps, w / np.where(total != 0, total, 1), 0)
    inside = (sample >= -0.5) & (sample <= in_size - 0.5)
    return np.where(inside[None, :], w, 0).astype(np.float32)


def resize(image, size, interpolation="bilinear"):
    """Resizes an `(height, width, channels)` image to `size`, as Keras 3 on JAX does.

    Example:
    >>> resize(np.arange(4.0).reshape(2, 2, 1), (4, 4))[..., 0]
    array([[0.  , 0.25, 0.75, 1.  ],
           [0.5 , 0.75, 1.25, 1.5 ],
           [1.5 , 1.75, 2.25, 2.5 ],
           [2.  , 2.25, 2.75, 3.  ]], dtype=float32)
    """
    image = np.asarray(image, dtype=np.float32)
    for axis, (n_in, n_out) in enumerate(zip(image.shape[:2], size)):
        if n_in == n_out:
            continue
        if interpolation == "nearest":
            idx = np.floor((np.arange(n_out, dtype=np.float32) + 0.5) * np.float32(n_in / n_out)).astype(int)
            image = np.take(image, idx, axis=axis)
        else:
            w = _weights(n_in, n_out, _KERNELS[interpolation])
            image = np.moveaxis(np.tensordot(image, w, axes=([axis], [0])), -1, axis)
    return image.astype(np.float32)


def _crop_or_pad(image, size, crop, pad):
    """Centre-crops (or zero-pads) the image to the target aspect ratio, as Keras."""
    h, w = image.shape[:2]
    th, tw = size
    if crop:
        ch = max(min(h, int(float(w * th) / tw)), 1)
        cw = max(min(w, int(float(h * tw) / th)), 1)
        top, left = int(float(h - ch) / 2), int(float(w - cw) / 2)
        return image[top : top + ch, left : left + cw]
    if pad:
        ph = max(h, int(float(w * th) / tw))
        pw = max(w, int(float(h * tw) / th))
        top, left = int(float(ph - h) / 2), int(float(pw - w) / 2)
        out = np.zeros((h + 2 * top, w + 2 * left) + image.shape[2:], dtype=image.dtype)
        out[top : top + h, left : left + w] = image
        return out
    return image


def _pil():
    try:
        from PIL import Image
    except ImportError as e:
        raise ImportError(
            "image_dataset_from_directory() reads images with Pillow, which is not "
            "installed. Install it with `pip install pillow`."
        ) from e
    return Image


def load_image(path, image_size, num_channels, interpolation="bilinear", data_format="channels_last", crop_to_aspect_ratio=False, pad_to_aspect_ratio=False):
    """Reads one image file into a `float32` array of the requested size and channels."""
    Image = _pil()
    with Image.open(path) as img:
        mode = {1: "L", 3: "RGB", 4: "RGBA"}[num_channels]
        if img.mode != mode and not (num_channels == 1 and img.mode in ("I;16", "I")):
            img = img.convert(mode)
        x = np.asarray(img, dtype=np.float32)
    if x.ndim == 2:
        x = x[:, :, None]
    x = resize(_crop_or_pad(x, image_size, crop_to_aspect_ratio, pad_to_aspect_ratio), image_size, interpolation)
    return x.transpose(2, 0, 1) if data_format == "channels_first" else x


def image_dataset_from_directory(
    directory,
    labels="inferred",
    label_mode="int",
    class_names=None,
    color_mode="rgb",
    batch_size=32,
    image_size=(256, 256),
    shuffle=True,
    seed=None,
    validation_split=None,
    subset=None,
    interpolation="bilinear",
    follow_links=False,
    crop_to_aspect_ratio=False,
    pad_to_aspect_ratio=False,
    data_format=None,
    format="tf",
    verbose=True,
):
    """Generates batches of images (and labels) from image files in a directory.

    With `labels="inferred"`, each subdirectory of `directory` is a class. Keras
    returns a `tf.data.Dataset`; kerax returns a `PyDataset` of NumPy batches (which
    `fit` accepts) with the same `class_names` and `file_paths` attributes, files in
    the same order as Keras for the same `seed`. With `shuffle=True`, a new order is
    drawn at the end of every epoch. Needs Pillow (`pip install pillow`).

    Args:
        directory: the data directory.
        labels: `"inferred"`, None (images only), or a list of integer labels, one per
            file in sorted path order.
        label_mode: `"int"` (`int32`), `"categorical"` (`float32` one-hot),
            `"binary"` (`float32`, shape `(batch, 1)`; exactly 2 classes), or None.
        class_names: the subdirectories to use, in label order (`labels="inferred"`).
        color_mode: `"grayscale"`, `"rgb"` or `"rgba"` (1, 3 or 4 channels).
        batch_size: images per batch, or None for single images.
        image_size: `(height, width)` (or one int) to resize images to.
        shuffle: whether to shuffle the files.
        seed: the shuffle's seed (required with `validation_split` and shuffling).
        validation_split: fraction of the files held out for validation.
        subset: `"training"`, `"validation"` or `"both"` (returns both datasets).
        interpolation: `"bilinear"`, `"nearest"`, `"bicubic"`, `"lanczos3"` or
            `"lanczos5"`.
        follow_links: whether to follow symbolic links to subdirectories.
        crop_to_aspect_ratio: centre-crop to the target aspect ratio before resizing.
        pad_to_aspect_ratio: zero-pad to the target aspect ratio before resizing.
        data_format: `"channels_last"` or `"channels_first"`; defaults to
            `kerax.config.image_data_format()`.
        format: `"tf"` (Keras' default) or `"grain"`: either way kerax returns its
            own `PyDataset` of NumPy batches (there is no tf.data here).
        verbose: print how many files and classes were found.

    Returns:
        A `PyDataset` yielding `(images, labels)` (`images` alone when `label_mode`
        is None), `images` being `float32` of shape `(batch, height, width, channels)`;
        or a list `[train, validation]` when `subset="both"`.

    Example:
    >>> import os, tempfile
    >>> from PIL import Image
    >>> root = tempfile.mkdtemp()
    >>> for label in ("cats", "dogs"):
    ...     os.makedirs(os.path.join(root, label))
    ...     Image.new("RGB", (8, 6)).save(os.path.join(root, label, "0.png"))
    >>> ds = image_dataset_from_directory(root, image_size=(4, 4), batch_size=2, verbose=False)
    >>> images, labels = ds[0]
    >>> images.shape, images.dtype.name, ds.class_names
    ((2, 4, 4, 3), 'float32', ['cats', 'dogs'])
    """
    _pil()
    if format not in ("tf", "grain"):
        raise ValueError('`format` should be either "tf" or "grain". '
                         f"Received: format={format}")
    if labels not in ("inferred", None) and not isinstance(labels, (list, tuple)):
        raise ValueError(
            '`labels` must be "inferred", None, or a list/tuple of integer labels (one '
            f"per image file, in sorted path order). Received: labels={labels!r}."
        )
    if label_mode not in ("int", "categorical", "binary", None):
        raise ValueError(
            f'`label_mode` must be "int", "categorical", "binary" or None. Received: label_mode={label_mode!r}.'
        )
    if labels is None or label_mode is None:
        labels, label_mode = None, None
    channels = {"grayscale": 1, "rgb": 3, "rgba": 4}
    if color_mode not in channels:
        raise ValueError(f'`color_mode` must be "grayscale", "rgb" or "rgba". Received: color_mode={color_mode!r}.')
    if isinstance(image_size, int):
        image_size = (image_size, image_size)
    if not isinstance(image_size, (list, tuple)) or len(image_size) != 2:
        raise ValueError(f"`image_size` must be (height, width). Received: image_size={image_size!r}.")
    interpolation = interpolation.lower()
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"`interpolation` must be one of {INTERPOLATIONS}. Received: interpolation={interpolation!r}.")
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError("Set at most one of `crop_to_aspect_ratio` and `pad_to_aspect_ratio`.")
    data_format = data_format or image_data_format()
    dataset_utils.check_validation_split_arg(validation_split, subset, shuffle, seed)
    seed = np.random.randint(1e6) if seed is None else seed
    paths, labels, class_names = dataset_utils.index_directory(
        directory, labels, ALLOWLIST_FORMATS, class_names, shuffle, seed, follow_links, verbose
    )
    if label_mode == "binary" and len(class_names) != 2:
        raise ValueError(
            f'label_mode="binary" needs exactly 2 classes. Received: class_names={class_names}.'
        )

    def make(subset_name, shuffle_epochs):
        p, y = dataset_utils.get_training_or_validation_split(paths, labels, validation_split, subset_name)
        if not p:
            raise ValueError(f"No images found in directory {directory!r}. Allowed formats: {ALLOWLIST_FORMATS}.")
        if y is not None:
            y = dataset_utils.encode_labels(y, label_mode, len(class_names))
        args = (tuple(image_size), channels[color_mode], interpolation, data_format, crop_to_aspect_ratio, pad_to_aspect_ratio)
        ds = dataset_utils.SampleBatches(len(p), lambda i: load_image(p[i], *args), y, batch_size, shuffle_epochs, seed)
        ds.class_names, ds.file_paths = class_names, list(p)
        return ds

    if subset == "both":
        return [make("training", shuffle), make("validation", False)]
    return make(subset, shuffle)
