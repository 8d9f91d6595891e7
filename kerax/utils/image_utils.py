"""Single images as Pillow images and NumPy arrays: `load_img`, `img_to_array`, ...

These follow `keras.utils.load_img` / `img_to_array` / `array_to_img` / `save_img`
(names, arguments, defaults, results). Pillow is needed (`pip install pillow`).
"""

import io
import pathlib
import warnings

import numpy as np

from kerax import errors
from kerax.backend.config import floatx, standardize_data_format

_INTERPOLATIONS = ("nearest", "bilinear", "bicubic", "hamming", "box", "lanczos")
_COLOR_MODES = {"grayscale": "L", "rgb": "RGB", "rgba": "RGBA"}


def _pil(fn):
    try:
        from PIL import Image
    except ImportError as e:
        raise ImportError(
            f"{fn}() needs Pillow, which is not installed. Install it with "
            "`pip install pillow`."
        ) from e
    return Image


def array_to_img(x, data_format=None, scale=True, dtype=None):
    """Converts a 3D array `(height, width, channels)` to a Pillow image.

    Args:
        x: an array-like of rank 3 with 1, 3 or 4 channels.
        data_format: `"channels_last"` or `"channels_first"`; None means
            `kerax.config.image_data_format()`.
        scale: whether to rescale the values to span `[0, 255]` (default True).
        dtype: the float type used for the rescaling (default `floatx()`).

    Returns:
        A `PIL.Image.Image`: mode `"L"` (1 channel; `"I"` if values exceed 255), `"RGB"`
        or `"RGBA"`.

    Raises:
        ValueError: if `x` is not rank 3, or has another number of channels.

    Example:
    >>> import numpy as np, kerax
    >>> kerax.utils.array_to_img(np.random.random((4, 5, 3))).size
    (5, 4)
    """
    Image = _pil("array_to_img")
    data_format = standardize_data_format(data_format)
    x = np.array(x, dtype=dtype or floatx())
    if x.ndim != 3:
        raise ValueError(
            "array_to_img() expects one image of rank 3 (height, width, channels). "
            f"Received an array of shape {x.shape}. Convert images one at a time."
        )
    if data_format == "channels_first":
        x = x.transpose(1, 2, 0)
    if scale:
        x = x - np.min(x)
        top = np.max(x)
        if top != 0:
            x /= top
        x *= 255
    channels = x.shape[2]
    if channels in (3, 4):
        return Image.fromarray(x.astype("uint8"), "RGB" if channels == 3 else "RGBA")
    if channels == 1:
        if np.max(x) > 255:
            return Image.fromarray(x[:, :, 0].astype("int32"), "I")
        return Image.fromarray(x[:, :, 0].astype("uint8"), "L")
    raise ValueError(
        f"array_to_img() supports 1, 3 or 4 channels. Received an array of shape "
        f"{x.shape} ({channels} channels, data_format={data_format!r})."
    )


def img_to_array(img, data_format=None, dtype=None):
    """Converts a Pillow image to a 3D NumPy array (a channel axis is always present).

    Args:
        img: a `PIL.Image.Image` (or any array-like of rank 2 or 3).
        data_format: `"channels_last"` (gives `(height, width, channels)`) or
            `"channels_first"`; None means `kerax.config.image_data_format()`.
        dtype: the array's dtype (default `floatx()`).

    Returns:
        A NumPy array of rank 3.

    Raises:
        ValueError: if the image's array is not of rank 2 or 3.

    Example:
    >>> import numpy as np, kerax
    >>> img = kerax.utils.array_to_img(np.zeros((4, 5, 1)), scale=False)
    >>> kerax.utils.img_to_array(img).shape
    (4, 5, 1)
    """
    data_format = standardize_data_format(data_format)
    x = np.asarray(img, dtype=dtype or floatx())
    if x.ndim == 2:
        x = x[None] if data_format == "channels_first" else x[:, :, None]
    elif x.ndim == 3:
        if data_format == "channels_first":
            x = x.transpose(2, 0, 1)
    else:
        raise ValueError(
            "img_to_array() expects an image whose array has rank 2 or 3. Received "
            f"shape {x.shape}."
        )
    return x


def save_img(path, x, data_format=None, file_format=None, scale=True, **kwargs):
    """Saves an image array to a path or file object (through `array_to_img`).

    Args:
        path: a path or a file object.
        x: an array of rank 3.
        data_format: `"channels_last"` or `"channels_first"`.
        file_format: e.g. `"png"`; by default taken from the file name's extension
            (needed for a file object). `"jpg"` means `"jpeg"`.
        scale: whether to rescale the values to span `[0, 255]`.
        **kwargs: passed to `PIL.Image.Image.save`.

    Example:
    >>> import io, numpy as np, kerax
    >>> buffer = io.BytesIO()
    >>> kerax.utils.save_img(buffer, np.ones((2, 2, 3)), file_format="png")
    """
    data_format = standardize_data_format(data_format)
    if file_format is None and isinstance(path, (str, pathlib.Path)):
        file_format = pathlib.Path(path).suffix[1:].lower()
    if file_format and file_format.lower() == "jpg":
        file_format = "jpeg"
    img = array_to_img(x, data_format=data_format, scale=scale)
    if img.mode == "RGBA" and file_format == "jpeg":
        warnings.warn("JPEG cannot store an alpha channel: saving the RGBA image as RGB.",
                      stacklevel=2)
        img = img.convert("RGB")
    img.save(path, format=file_format or None, **kwargs)


def load_img(path, color_mode="rgb", target_size=None, interpolation="nearest",
             keep_aspect_ratio=False):
    """Loads an image file into a Pillow image, optionally converted and resized.

    Args:
        path: a path (`str`, `bytes`, `pathlib.Path`) or an `io.BytesIO`.
        color_mode: `"rgb"` (default), `"rgba"` or `"grayscale"` (16- and 32-bit
            grayscale images keep their depth).
        target_size: None (keep the size) or `(height, width)`.
        interpolation: Pillow's resampling for `target_size`: `"nearest"` (default),
            `"bilinear"`, `"bicubic"`, `"hamming"`, `"box"` or `"lanczos"`.
        keep_aspect_ratio: whether to first crop the largest centred box of the target's
            aspect ratio, so that resizing does not distort the image.

    Returns:
        A `PIL.Image.Image`.

    Raises:
        TypeError: if `path` is not path-like or a `BytesIO`.
        ValueError: for an unknown `color_mode` or `interpolation`.

    Example:
    >>> import io, numpy as np, kerax
    >>> buffer = io.BytesIO()
    >>> kerax.utils.save_img(buffer, np.random.random((8, 6, 3)), file_format="png")
    >>> kerax.utils.load_img(buffer, target_size=(4, 3)).size
    (3, 4)
    """
    Image = _pil("load_img")
    if color_mode not in _COLOR_MODES:
        raise errors.unknown_identifier("color_mode", color_mode, tuple(_COLOR_MODES))
    if isinstance(path, io.BytesIO):
        img = Image.open(path)
    elif isinstance(path, (str, bytes, pathlib.Path)):
        with open(pathlib.Path(path).resolve() if isinstance(path, pathlib.Path) else path,
                  "rb") as f:
            img = Image.open(io.BytesIO(f.read()))
    else:
        raise TypeError(
            "load_img(): `path` must be a path (str, bytes, pathlib.Path) or an "
            f"io.BytesIO. Received: {path!r} of type {type(path).__name__}."
        )
    mode = _COLOR_MODES[color_mode]
    if img.mode != mode and not (mode == "L" and img.mode in ("I;16", "I")):
        img = img.convert(mode)
    if target_size is None:
        return img
    size = (target_size[1], target_size[0])  # Pillow sizes are (width, height)
    if img.size == size:
        return img
    if interpolation not in _INTERPOLATIONS:
        raise errors.unknown_identifier("interpolation", interpolation, _INTERPOLATIONS)
    resample = getattr(getattr(Image, "Resampling", Image), interpolation.upper())
    box = None
    if keep_aspect_ratio:
        width, height = img.size
        crop_w = min(width, height * size[0] // size[1])
        crop_h = min(height, width * size[1] // size[0])
        left, top = (width - crop_w) // 2, (height - crop_h) // 2
        box = [left, top, left + crop_w, top + crop_h]
    return img.resize(size, resample, box=box)
