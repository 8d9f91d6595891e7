"""`RandomPerspective`: Keras 3's random perspective warp of images (and their boxes)."""

import jax.numpy as jnp

from kerax.layers.preprocessing.image_layer import ImagePreprocessingLayer, keras_factor
from kerax.ops import image as image_ops
from kerax.random import random as krandom
from kerax.utils import bounding_boxes as bb

_INTERPOLATIONS = ("nearest", "bilinear")


class RandomPerspective(ImagePreprocessingLayer):
    """Moves each image's corners by a random amount and warps it to match (training only).

    As Keras 3: per image, a probability `p ~ U(factor)` and a threshold `u ~ U(0, 1)`
    decide whether it is warped (`u < p`); each of the four corners `(x, y)` moves to
    `(x, y) * (1 + d)` with `d ~ U(-scale / 2, scale / 2)` per coordinate. Pixels outside
    the source image become `fill_value`. Bounding boxes (`bounding_box_format` set) are
    mapped through the same warp and clipped to the image.

    Args:
        factor: a number `f` in `[0, 1]` for `U(0, f)`, or a `(min, max)` pair: the
            probability that an image is warped (default 1.0: always).
        scale: the strength of the warp, in `[0, 1]` (default 1.0).
        interpolation: `"bilinear"` (default) or `"nearest"`.
        fill_value: the value of pixels from outside the image (default 0.0).
        seed: the initial seed state of `layer.generator` (random when None); with the
            same seed an eager call draws what Keras draws.
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Example:
    >>> import numpy as np
    >>> layer = RandomPerspective(scale=0.2, seed=1)
    >>> layer(np.ones((2, 8, 8, 3), "float32")).shape
    (2, 8, 8, 3)
    """

    _random = True

    def __init__(self, factor=1.0, scale=1.0, interpolation="bilinear", fill_value=0.0,
                 seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = keras_factor("RandomPerspective", factor, (0, 1))
        if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not 0 <= scale <= 1:
            raise ValueError("RandomPerspective: the `scale` argument should be a number in "
                             f"the range [0,1]. Received: scale={scale}")
        if interpolation not in _INTERPOLATIONS:
            raise ValueError(f"RandomPerspective: unknown `interpolation` {interpolation!r}. "
                             f"Expected one of {_INTERPOLATIONS}.")
        self.scale, self.interpolation, self.fill_value = scale, interpolation, fill_value

    def get_random_transformation(self, images, training=True, draws=None):
        if not training:
            return None
        n = images.shape[0]
        height, width = images.shape[self.height_axis], images.shape[self.width_axis]
        probability = krandom.uniform((n,), *self.factor, seed=draws.next())
        threshold = krandom.uniform((n,), 0.0, 1.0, seed=draws.next())
        d = krandom.uniform((n, 4, 2), -0.5 * self.scale, 0.5 * self.scale,
                            dtype=self.compute_dtype, seed=draws.next())
        start = jnp.asarray([[[0.0, 0.0], [width - 1, 0.0], [0.0, height - 1],
                              [width - 1, height - 1]]], self.compute_dtype)
        start = jnp.repeat(start, n, axis=0)
        return {"apply_perspective": threshold < probability, "start_points": start,
                "end_points": start + start * d, "height": height, "width": width}

    def _warp(self, images, t, interpolation):
        if t is None:
            return images
        out = image_ops.perspective_transform(images, t["start_points"], t["end_points"],
                                              interpolation=interpolation,
                                              fill_value=self.fill_value,
                                              data_format=self.data_format)
        return jnp.where(t["apply_perspective"][:, None, None, None], out, images)

    def transform_images(self, images, transformation, training=True):
        images = images.astype(self.compute_dtype)
        return self._warp(images, transformation, self.interpolation) if training else images

    def transform_segmentation_masks(self, masks, transformation, training=True):
        return self._warp(jnp.asarray(masks), transformation, "nearest") if training else masks

    def transform_bounding_boxes(self, bounding_boxes, transformation, training=True):
        if not training or transformation is None:
            return bounding_boxes
        return _warp_boxes(self, bounding_boxes, transformation)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "scale": self.scale,
                "interpolation": self.interpolation, "fill_value": self.fill_value,
                "seed": self.seed}


def _warp_boxes(layer, bounding_boxes, t):
    """Keras' box transform: the four corners through the inverse homography, then their
    enclosing box, clipped to the image."""
    from_format = layer.bounding_box_format
    h, w = t["height"], t["width"]
    boxes = bb.convert_format(bounding_boxes, source=from_format, target="xyxy",
                              height=h, width=w)
    x0, y0, x1, y1 = jnp.split(boxes["boxes"], 4, axis=-1)
    m = image_ops._homography(t["start_points"], t["end_points"])[:, None]
    m = m.astype(layer.compute_dtype)
    corners = [_inverse_map(x, y, m) for x, y in ((x0, y0), (x1, y1), (x0, y1), (x1, y0))]
    xs = jnp.stack([c[0] for c in corners], -1)
    ys = jnp.stack([c[1] for c in corners], -1)
    warped = jnp.concatenate([xs.min(-1)[..., None], ys.min(-1)[..., None],
                              xs.max(-1)[..., None], ys.max(-1)[..., None]], axis=-1)
    apply = t["apply_perspective"].astype(warped.dtype)
    boxes["boxes"] = jnp.where(apply[:, None, None], warped, boxes["boxes"])
    boxes = bb.clip_to_image_size(boxes, height=h, width=w, bounding_box_format="xyxy")
    return bb.convert_format(boxes, source="xyxy", target=from_format, height=h, width=w)


def _inverse_map(x, y, m):
    n = m.shape[0]
    full = jnp.concatenate([m, jnp.ones((n, 1, 1), m.dtype)], axis=-1).reshape(n, 3, 3)
    inverse = jnp.linalg.inv(full)
    coords = jnp.moveaxis(jnp.concatenate([x, y, jnp.ones_like(x)], axis=-1), -1, -2)
    out = jnp.moveaxis(inverse @ coords, -1, -2)
    return out[..., 0] / out[..., 2], out[..., 1] / out[..., 2]
