"""`plot_segmentation_mask_gallery`: images beside their drawn masks, as Keras 3."""

import numpy as np

from kerax.backend import image_data_format
from kerax.visualization.draw_segmentation_masks import draw_segmentation_masks
from kerax.visualization.plot_image_gallery import channels_last_batch, plot_image_gallery


def plot_segmentation_mask_gallery(images, num_classes, value_range=(0, 255), y_true=None,
                                   y_pred=None, color_mapping=None, blend=True, alpha=0.8,
                                   ignore_index=-1, data_format=None, **kwargs):
    """Plots each image in a row with its true and predicted masks drawn (Keras 3's
    function; the mask arguments are `draw_segmentation_masks`', `**kwargs` go to
    `plot_image_gallery`). Needs matplotlib.

    Raises:
        ValueError: for images that are not 4D.

    Example:
    >>> masks = np.ones((2, 8, 8, 1), "int32")
    >>> plot_segmentation_mask_gallery(np.zeros((2, 8, 8, 3)), 2, y_true=masks,
    ...                                path="masks.png")  # doctest: +SKIP
    """
    data_format = data_format or image_data_format()
    images = channels_last_batch(images, data_format)
    draw = dict(num_classes=num_classes, color_mapping=color_mapping, alpha=alpha,
                ignore_index=ignore_index, blend=blend, data_format="channels_last")
    columns = [images]
    for masks in (y_true, y_pred):
        if masks is not None:
            masks = np.asarray(masks)
            if data_format == "channels_first":
                masks = np.transpose(masks, (0, 2, 3, 1))
            columns.append(draw_segmentation_masks(images, masks.astype("int32"), **draw))
    gallery = np.stack([column[i] for i in range(len(images)) for column in columns])
    return plot_image_gallery(gallery, value_range=value_range, rows=len(images),
                              cols=len(columns), **kwargs)


__all__ = ["plot_segmentation_mask_gallery"]
