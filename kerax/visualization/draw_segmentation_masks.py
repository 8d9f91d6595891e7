"""`draw_segmentation_masks`: class masks overlaid on images, as Keras 3."""

import numpy as np

from kerax.backend import image_data_format


def draw_segmentation_masks(images, segmentation_masks, num_classes=None, color_mapping=None,
                            alpha=0.8, blend=True, ignore_index=-1, data_format=None):
    """Draws segmentation masks on a batch of images (Keras 3's function).

    Args:
        images: a batch of images, `(batch, height, width, channels)`.
        segmentation_masks: integer class masks, `(batch, height, width, 1)` (or without
            the last axis). As in Keras, classes `0 .. num_classes - 1` get a color.
        num_classes: the number of classes (default: the masks' maximum, as Keras).
        color_mapping: a dict from class index (from 0) to an RGB color; default: Keras'
            palette.
        alpha: the masks' opacity when blending.
        blend: blend the colors with the image (uint8 result); if False, the colored
            images are returned as float32 without blending, as Keras.
        ignore_index: mask value left undrawn.
        data_format: `"channels_last"` or `"channels_first"` (default: the config's).

    Returns:
        A NumPy array: the images with the masks drawn (channels last).

    Raises:
        ValueError: if `images` is not 4D. TypeError: if the masks are not integers.

    Example:
    >>> images = np.zeros((1, 2, 2, 3), "uint8")
    >>> masks = np.array([[[[1], [0]], [[2], [-1]]]])
    >>> draw_segmentation_masks(images, masks, num_classes=3)[0, :, :, 0]
    array([[0, 0],
           [1, 0]], dtype=uint8)
    """
    data_format = data_format or image_data_format()
    images = np.asarray(images)
    if images.ndim != 4:
        raise ValueError(
            f"`images` must be batched 4D tensor. Received: images.shape={images.shape}")
    masks = np.asarray(segmentation_masks)
    if data_format == "channels_first":
        images = np.transpose(images, (0, 2, 3, 1))
        masks = np.transpose(masks, (0, 2, 3, 1))
    if masks.ndim == 3:  # (batch, height, width): Keras' docstring allows it
        masks = masks[..., None]
    if not np.issubdtype(masks.dtype, np.integer):
        raise TypeError(
            f"`segmentation_masks` must be in integer dtype. Received: "
            f"segmentation_masks.dtype={masks.dtype}")
    images = images.astype("float32")
    if num_classes is None:
        num_classes = int(masks.max())
    if color_mapping is None:
        palette = np.array([2**25 - 1, 2**15 - 1, 2**21 - 1])
        colors = [((i * palette) % 255).tolist() for i in range(num_classes)]
    else:
        colors = [color_mapping[i] for i in range(num_classes)]
    valid = masks[..., 0] != ignore_index
    drawn = images.copy()
    for i, color in enumerate(colors):
        drawn[masks[..., 0] == i] = np.asarray(color, "float32")[None, :]
    if not blend:
        return drawn
    blended = images * (1 - alpha) + drawn * alpha
    return np.where(valid[..., None], blended, images).astype("uint8")


__all__ = ["draw_segmentation_masks"]
