"""`MaxNumBoundingBoxes`: pads or truncates the boxes of each image to a fixed number."""

import jax.numpy as jnp

from kerax.layers.preprocessing.image_layer import ImagePreprocessingLayer


class MaxNumBoundingBoxes(ImagePreprocessingLayer):
    """Gives every image exactly `max_number` boxes: extra boxes are dropped, missing ones
    are `fill_value` boxes with label `fill_value` (as Keras 3). Images, labels and
    segmentation masks pass through unchanged.

    Args:
        max_number: the number of boxes per image.
        fill_value: the value of padded boxes and their labels (default -1).

    Example:
    >>> import numpy as np
    >>> data = {"images": np.zeros((1, 4, 4, 3)),
    ...         "bounding_boxes": {"boxes": np.ones((1, 1, 4)), "labels": np.array([[2]])}}
    >>> out = MaxNumBoundingBoxes(max_number=2, bounding_box_format="xyxy")(data)
    >>> out["bounding_boxes"]["labels"].tolist()
    [[2, -1]]
    """

    def __init__(self, max_number, fill_value=-1, **kwargs):
        super().__init__(**kwargs)
        self.max_number = int(max_number)
        self.fill_value = int(fill_value)
        if self.max_number < 1:
            raise ValueError("MaxNumBoundingBoxes: `max_number` must be a positive integer. "
                             f"Received: max_number={max_number!r}")

    def transform_images(self, images, transformation=None, training=True):
        return images

    def transform_bounding_boxes(self, bounding_boxes, transformation, training=True):
        boxes, labels = bounding_boxes["boxes"], bounding_boxes["labels"]
        if boxes.ndim != 3 or labels.ndim != 2:
            raise ValueError(
                f"MaxNumBoundingBoxes '{self.name}' expects boxes of shape (batch, "
                "num_boxes, 4) and labels of shape (batch, num_boxes) (or one image's, "
                f"without the batch axis). Received: boxes.shape={boxes.shape}, "
                f"labels.shape={labels.shape}.")
        extra = max(self.max_number - boxes.shape[1], 0)
        boxes = jnp.pad(boxes[:, :self.max_number], [(0, 0), (0, extra), (0, 0)],
                        constant_values=self.fill_value)
        labels = jnp.pad(labels[:, :self.max_number], [(0, 0), (0, extra)],
                         constant_values=self.fill_value)
        return {**bounding_boxes, "boxes": boxes, "labels": labels}

    def get_config(self):
        return {**super().get_config(), "max_number": self.max_number}
