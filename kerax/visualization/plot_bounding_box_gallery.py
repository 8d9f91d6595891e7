"""`plot_bounding_box_gallery`: images with true and predicted boxes, as Keras 3."""

import numpy as np

from kerax.backend import image_data_format
from kerax.visualization.draw_bounding_boxes import draw_bounding_boxes
from kerax.visualization.plot_image_gallery import (
    channels_last_batch, plot_image_gallery, pyplot)


def plot_bounding_box_gallery(images, bounding_box_format, y_true=None, y_pred=None,
                              value_range=(0, 255), true_color=(0, 188, 212),
                              pred_color=(255, 235, 59), line_thickness=2, font_scale=1.0,
                              text_thickness=None, class_mapping=None,
                              ground_truth_mapping=None, prediction_mapping=None,
                              legend=False, legend_handles=None, rows=None, cols=None,
                              data_format=None, **kwargs):
    """Plots images with their true and predicted boxes (Keras 3's function).

    `y_true`/`y_pred` are `draw_bounding_boxes` dicts; the other arguments are
    `draw_bounding_boxes`' and `plot_image_gallery`'s (`**kwargs` go to the latter).
    `legend=True` adds "Ground Truth" and "Prediction" patches. Needs matplotlib.

    Raises:
        ValueError: for images that are not 4D, or both `legend` and `legend_handles`.

    Example:
    >>> boxes = {"boxes": np.array([[[1, 1, 6, 6]]]), "labels": np.array([[0]])}
    >>> plot_bounding_box_gallery(np.zeros((1, 8, 8, 3)), "xyxy", y_true=boxes,
    ...                           path="boxes.png")  # doctest: +SKIP
    """
    plt = pyplot("plot_bounding_box_gallery")
    prediction_mapping = prediction_mapping or class_mapping
    ground_truth_mapping = ground_truth_mapping or class_mapping
    data_format = data_format or image_data_format()
    images = channels_last_batch(images, data_format)
    draw = dict(bounding_box_format=bounding_box_format, line_thickness=line_thickness,
                text_thickness=text_thickness, font_scale=font_scale,
                data_format="channels_last")
    if y_true is not None:
        images = draw_bounding_boxes(images, y_true, color=true_color,
                                     class_mapping=ground_truth_mapping, **draw)
    if y_pred is not None:
        images = draw_bounding_boxes(images, y_pred, color=pred_color,
                                     class_mapping=prediction_mapping, **draw)
    if legend:
        if legend_handles:
            raise ValueError("Only pass `legend` OR `legend_handles` to "
                             "`keras.visualization.plot_bounding_box_gallery()`.")
        patches = plt.matplotlib.patches
        legend_handles = [
            patches.Patch(color=np.array(true_color) / 255.0, label="Ground Truth"),
            patches.Patch(color=np.array(pred_color) / 255.0, label="Prediction")]
    return plot_image_gallery(images, value_range=value_range, legend_handles=legend_handles,
                              rows=rows, cols=cols, **kwargs)


__all__ = ["plot_bounding_box_gallery"]
