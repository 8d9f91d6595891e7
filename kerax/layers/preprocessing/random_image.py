"""Random image augmentations: identity at inference, random in training.

Each draws its parameters per image from the `rng` key passed to `apply` (or, without
one, from its seed state), so it runs inside the compiled training step; with
`training=False` the input is returned as float.
"""

import jax
import jax.numpy as jnp

from kerax.errors import unknown_identifier
from kerax.layers import seed_state
from kerax.layers.input_spec import InputSpec
from kerax.layers.layer import Layer
from kerax.layers.preprocessing._base import (
    TrainingByDefault,
    as_float,
    data_format,
)
from kerax.layers.preprocessing.image_layer import (
    ImagePreprocessingLayer,
    keras_factor,
    rotation_matrix,
)
from kerax.ops import image as image_ops
from kerax.random import random as krandom
from kerax.random.seed_generator import SeedGenerator
from kerax.utils import bounding_boxes as bb

_FILL_MODES = ("reflect", "wrap", "constant", "nearest")
_INTERPOLATIONS = {"nearest": 0, "bilinear": 1}


def _range(factor, name, symmetric=True):
    if isinstance(factor, (tuple, list)):
        if len(factor) != 2:
            raise ValueError(f"`{name}` must be a float or a tuple of two floats. "
                             f"Received: {name}={factor}")
        return float(factor[0]), float(factor[1])
    return (-float(factor), float(factor)) if symmetric else (float(factor), float(factor))


class _RandomImageLayer(TrainingByDefault, Layer):
    """Identity at inference; `_augment(x, rng)` on a batch of images in training (the
    default of an eager call, as in Keras).

    As Keras' image preprocessing layers, it owns a `SeedGenerator` (`layer.generator`),
    whose state is in `variables["state"]["generator"]`: the key of a training call is
    `apply`'s `rng`, or without one the seed state (see `kerax.layers.seed_state`). The
    counter advances by `_keras_draws`, the seeds Keras' layer draws per call.
    """

    _keras_draws = 1

    def __init__(self, seed=None, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.generator = SeedGenerator(seed)
        self.data_format = _data_format(data_format)
        self.supports_masking = True
        self.input_spec = InputSpec(min_ndim=3, max_ndim=4)

    def forward(self, params, state, inputs, training=False, rng=None, **kwargs):
        x = as_float(self, inputs)
        if not training:
            return x, state
        rng, state = seed_state.draw(self, state, rng, "generator", self._keras_draws)
        single = x.ndim == 3
        x = x[None] if single else x
        if self.data_format == "channels_first":
            x = jnp.moveaxis(x, 1, -1)
        y = self._augment(x, rng)
        if self.data_format == "channels_first":
            y = jnp.moveaxis(y, -1, 1)
        return (y[0] if single else y), state

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "seed": self.seed}


_data_format = data_format


class RandomFlip(ImagePreprocessingLayer):
    """Randomly flips each image horizontally and/or vertically (training only).

    As Keras 3: one draw `u ~ U(0, 1)` per image; the image is flipped when `u <= 0.5`
    (with `"horizontal_and_vertical"`, both ways at once). With the same `seed`, an eager
    call flips what Keras flips. Takes Keras' dict `{"images", "labels",
    "bounding_boxes", "segmentation_masks"}` too: boxes (in `bounding_box_format`) and
    masks are flipped with their image.

    Args:
        mode: `"horizontal"`, `"vertical"` or `"horizontal_and_vertical"` (default).
        seed: the initial seed state of `layer.generator` (random when None), drawn from
            in training when `apply` gets no `rng`.
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Example:
    >>> import jax, numpy as np
    >>> layer = RandomFlip("horizontal")
    >>> x = np.arange(4.0).reshape(1, 1, 4, 1)
    >>> y, _ = layer.apply({}, x, training=True, rng=jax.random.PRNGKey(0))
    >>> sorted(y.ravel().tolist())
    [0.0, 1.0, 2.0, 3.0]
    """

    _MODES = ("horizontal", "vertical", "horizontal_and_vertical")
    _random = True

    def __init__(self, mode="horizontal_and_vertical", seed=None, data_format=None, **kwargs):
        if mode not in self._MODES:
            raise unknown_identifier("RandomFlip mode", mode, self._MODES)
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.mode = mode
        self.supports_masking = True

    def get_random_transformation(self, images, training=True, draws=None):
        if not training:
            return None
        u = krandom.uniform((images.shape[0], 1, 1, 1), seed=draws.next())
        return {"flips": u <= 0.5, "height": images.shape[self.height_axis],
                "width": images.shape[self.width_axis]}

    def transform_images(self, images, transformation, training=True):
        images = images.astype(self.compute_dtype)
        if not training or transformation is None:
            return images
        flips = transformation["flips"]
        if "horizontal" in self.mode:
            images = jnp.where(flips, jnp.flip(images, self.width_axis), images)
        if "vertical" in self.mode:
            images = jnp.where(flips, jnp.flip(images, self.height_axis), images)
        return images

    def transform_segmentation_masks(self, masks, transformation, training=True):
        return self.transform_images(jnp.asarray(masks), transformation, training)

    def transform_bounding_boxes(self, bounding_boxes, transformation, training=True):
        if not training or transformation is None:
            return bounding_boxes
        h, w = transformation["height"], transformation["width"]
        boxes = bb.convert_format(bounding_boxes, self.bounding_box_format, "rel_xyxy",
                                  height=h, width=w)
        flips = transformation["flips"][..., 0]
        x1, y1, x2, y2 = jnp.split(boxes["boxes"], 4, axis=-1)
        if "horizontal" in self.mode:
            x1, x2 = jnp.where(flips, 1 - x2, x1), jnp.where(flips, 1 - x1, x2)
        if "vertical" in self.mode:
            y1, y2 = jnp.where(flips, 1 - y2, y1), jnp.where(flips, 1 - y1, y2)
        boxes["boxes"] = jnp.concatenate([x1, y1, x2, y2], axis=-1)
        boxes = bb.clip_to_image_size(boxes, height=h, width=w, bounding_box_format="xyxy")
        return bb.convert_format(boxes, "rel_xyxy", self.bounding_box_format, height=h,
                                 width=w)

    def get_config(self):
        return {**super().get_config(), "mode": self.mode, "seed": self.seed}


def _keras_range(layer_name, name, factor, open_low=False):
    """Keras' `_set_factor` of the affine layers: `f` means `(-|f|, |f|)`, a pair is sorted;
    every number in `[-1, 1]` (`(-1, 1]` with `open_low`)."""
    message = (f"{layer_name}: the `{name}` argument should be a number (or a list of two "
               f"numbers) in the range {'(' if open_low else '['}-1.0, 1.0]. Received: "
               f"{name}={factor}")
    pair = isinstance(factor, (tuple, list))
    values = list(factor) if pair else [factor]
    if (pair and len(values) != 2
            or any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in values)
            or any(v > 1 or v < -1 or open_low and v == -1 for v in values)):
        raise ValueError(message)
    return tuple(sorted(values)) if pair else (-abs(factor), abs(factor))


class _KerasAffine(ImagePreprocessingLayer):
    """Keras 3's affine image layers: `_transform_images(images, t, interpolation)` warps
    images (and masks, with `"nearest"`) in training; the input, cast, otherwise."""

    _random = True

    def __init__(self, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, data_format=None, **kwargs):
        if fill_mode not in _FILL_MODES:
            raise unknown_identifier("fill_mode", fill_mode, _FILL_MODES)
        if interpolation not in _INTERPOLATIONS:
            raise unknown_identifier("interpolation", interpolation, list(_INTERPOLATIONS))
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.fill_mode, self.interpolation, self.fill_value = fill_mode, interpolation, fill_value
        self.supports_masking = True
        self.input_spec = InputSpec(min_ndim=3, max_ndim=4)

    def _warp(self, images, matrix, interpolation):
        return image_ops.affine_transform(images, matrix, interpolation=interpolation,
                                          fill_mode=self.fill_mode, fill_value=self.fill_value,
                                          data_format=self.data_format)

    def transform_images(self, images, transformation, training=True):
        images = images.astype(self.compute_dtype)
        if training and transformation is not None:
            images = self._transform_images(images, transformation, self.interpolation)
        return images

    def transform_segmentation_masks(self, masks, transformation, training=True):
        if training and transformation is not None:
            masks = self._transform_images(jnp.asarray(masks), transformation, "nearest")
        return masks

    def _size(self, images):
        return images.shape[0], images.shape[self.height_axis], images.shape[self.width_axis]

    def _boxes(self, bounding_boxes, transformation, move):
        """Keras' box path: to `xyxy`, `move(boxes)`, clipped to the image (labels of
        emptied boxes -1), back to `bounding_box_format`."""
        h, w = transformation["height"], transformation["width"]
        fmt = self.bounding_box_format
        bounding_boxes = bb.convert_format(bounding_boxes, fmt, "xyxy", height=h, width=w)
        bounding_boxes["boxes"] = move(bounding_boxes["boxes"])
        bounding_boxes = bb.clip_to_image_size(bounding_boxes, height=h, width=w)
        return bb.convert_format(bounding_boxes, "xyxy", fmt, height=h, width=w)

    def get_config(self):
        return {**super().get_config(), "fill_mode": self.fill_mode,
                "fill_value": self.fill_value, "interpolation": self.interpolation,
                "seed": self.seed}


class RandomRotation(_KerasAffine):
    """Rotates each image by a random angle in `factor * 2π` (training only).

    As Keras 3: one draw, the angle `U(factor) * 360` degrees per image, so with the same
    `seed` an eager call rotates what Keras rotates. Takes Keras' dict `{"images",
    "labels", "bounding_boxes", "segmentation_masks"}` too: boxes (in
    `bounding_box_format`) become the boxes around their rotated corners, clipped to the
    image (boxes left empty get label -1); masks are rotated with `"nearest"`. (Keras
    3.15 reads the boxes as `"xyxy"` whatever the format; kerax converts them first.)

    Args:
        factor: float `f` for angles in `[-f, f] * 2π`, or a `(lower, upper)` tuple, in
            `[-1, 1]`.
        fill_mode: `"reflect"` (default), `"wrap"`, `"constant"` or `"nearest"`.
        interpolation: `"bilinear"` (default) or `"nearest"`.
        seed: the initial seed state of `layer.generator` (random when None), drawn from
            in training when `apply` gets no `rng`.
        fill_value: the value outside the image for `fill_mode="constant"`.
        data_format: `"channels_last"` (default) or `"channels_first"`.
        bounding_box_format: the format of the boxes of a dict input (e.g. `"xyxy"`).

    Example:
    >>> import numpy as np
    >>> RandomRotation(0.1)(np.ones((1, 4, 4, 1))).shape
    (1, 4, 4, 1)
    """

    def __init__(self, factor, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, data_format=None, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.factor = keras_factor("RandomRotation", factor, (-1, 1))

    def get_random_transformation(self, images, training=True, draws=None):
        if not training:
            return None
        n, h, w = self._size(images)
        angle = krandom.uniform((n,), self.factor[0] * 360.0, self.factor[1] * 360.0,
                                seed=draws.next())
        return {"angle": angle, "height": h, "width": w,
                "rotation_matrix": rotation_matrix(angle, jnp.float32(h), jnp.float32(w))}

    def _transform_images(self, images, transformation, interpolation):
        return self._warp(images, transformation["rotation_matrix"], interpolation)

    def transform_bounding_boxes(self, bounding_boxes, transformation, training=True):
        if not training or transformation is None:
            return bounding_boxes
        angle = transformation["angle"]
        zeros, ones = jnp.zeros_like(angle), jnp.ones_like(angle)
        return self._boxes(bounding_boxes, transformation, lambda boxes: bb.affine_transform(
            boxes, angle, zeros, zeros, ones, zeros, zeros, height=transformation["height"],
            width=transformation["width"]))

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


class RandomZoom(_KerasAffine):
    """Zooms each image in or out by a random factor (training only).

    As Keras 3: the scale `1 + U(height_factor)` per image (then `1 + U(width_factor)`
    when given), so with the same `seed` an eager call zooms what Keras zooms. Takes
    Keras' dict `{"images", "labels", "bounding_boxes", "segmentation_masks"}` too:
    boxes (in `bounding_box_format`) are scaled with the image and clipped to it (boxes
    left empty get label -1); masks are zoomed with `"nearest"`.

    Args:
        height_factor: float `f` (the scale is `1 + U(-f, f)`) or a `(lower, upper)`
            tuple, in `(-1, 1]`; positive values zoom out.
        width_factor: the same for the width; None keeps the aspect ratio.
        fill_mode: `"reflect"` (default), `"wrap"`, `"constant"` or `"nearest"`.
        interpolation: `"bilinear"` (default) or `"nearest"`.
        seed: the initial seed state of `layer.generator` (random when None), drawn from
            in training when `apply` gets no `rng`.
        fill_value: the value outside the image for `fill_mode="constant"`.
        data_format: `"channels_last"` (default) or `"channels_first"`.
        bounding_box_format: the format of the boxes of a dict input (e.g. `"xyxy"`).

    Example:
    >>> import numpy as np
    >>> RandomZoom(0.2)(np.ones((1, 4, 4, 1))).shape
    (1, 4, 4, 1)
    """

    def __init__(self, height_factor, width_factor=None, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0, data_format=None,
                 **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self._height_range = _keras_range("RandomZoom", "height_factor", height_factor,
                                          open_low=True)
        self._width_range = None if width_factor is None else _keras_range(
            "RandomZoom", "width_factor", width_factor, open_low=True)

    def get_random_transformation(self, images, training=True, draws=None):
        if not training:
            return None
        n, h, w = self._size(images)
        lo, hi = self._height_range
        zh = krandom.uniform((n, 1), 1.0 + lo, 1.0 + hi, seed=draws.next())
        zw = zh
        if self._width_range is not None:
            lo, hi = self._width_range
            zw = krandom.uniform((n, 1), 1.0 + lo, 1.0 + hi, seed=draws.next())
        zooms = jnp.concatenate([zw, zh], axis=1).astype("float32")
        return {"zooms": zooms, "height": h, "width": w}

    @staticmethod
    def _matrix(zooms, h, w):
        n = zooms.shape[0]
        dx = (jnp.float32(w) - 1.0) / 2.0 * (1.0 - zooms[:, 0:1])
        dy = (jnp.float32(h) - 1.0) / 2.0 * (1.0 - zooms[:, 1:])
        zeros = jnp.zeros((n, 1))
        return jnp.concatenate([zooms[:, 0:1], zeros, dx, zeros, zooms[:, 1:], dy,
                                jnp.zeros((n, 2))], axis=1)

    def _transform_images(self, images, transformation, interpolation):
        h, w = images.shape[self.height_axis], images.shape[self.width_axis]
        return self._warp(images, self._matrix(transformation["zooms"], h, w), interpolation)

    def transform_bounding_boxes(self, bounding_boxes, transformation, training=True):
        """Keras' path: the boxes within the visible window `[start, end]` of the input,
        relative to it, are the boxes relative to the output."""
        if not training or transformation is None:
            return bounding_boxes
        h, w = transformation["height"], transformation["width"]
        fmt = self.bounding_box_format
        m = self._matrix(transformation["zooms"], h, w)[:, None, :]
        start = jnp.concatenate([m[..., 2:3], m[..., 5:6]] * 2, axis=-1)
        end = start + jnp.concatenate([m[..., 0:1] * w, m[..., 4:5] * h] * 2, axis=-1)
        bounding_boxes = bb.convert_format(bounding_boxes, fmt, "xyxy", height=h, width=w)
        boxes = jnp.clip(bounding_boxes["boxes"], start, end) - start
        bounding_boxes["boxes"] = boxes / (end - start)
        bounding_boxes = bb.clip_to_image_size(bounding_boxes, bounding_box_format="rel_xyxy")
        return bb.convert_format(bounding_boxes, "rel_xyxy", fmt, height=h, width=w)

    def get_config(self):
        return {**super().get_config(), "height_factor": self.height_factor,
                "width_factor": self.width_factor}


class RandomTranslation(_KerasAffine):
    """Shifts each image by a random fraction of its height and width (training only).

    As Keras 3: two draws, `U(height_factor) * height` then `U(width_factor) * width` per
    image, so with the same `seed` an eager call shifts what Keras shifts. Takes Keras'
    dict `{"images", "labels", "bounding_boxes", "segmentation_masks"}` too: boxes (in
    `bounding_box_format`) move with the image and are clipped to it (boxes left empty
    get label -1); masks are shifted with `"nearest"` interpolation.

    Args:
        height_factor, width_factor: float `f` (shift in `[-f, f]` of the size) or a
            `(lower, upper)` tuple, in `[-1, 1]`.
        fill_mode: `"reflect"` (default), `"wrap"`, `"constant"` or `"nearest"`.
        interpolation: `"bilinear"` (default) or `"nearest"`.
        seed: the initial seed state of `layer.generator` (random when None), drawn from
            in training when `apply` gets no `rng`.
        fill_value: the value outside the image for `fill_mode="constant"`.
        data_format: `"channels_last"` (default) or `"channels_first"`.
        bounding_box_format: the format of the boxes of a dict input (e.g. `"xyxy"`).

    Example:
    >>> import numpy as np
    >>> RandomTranslation(0.1, 0.1)(np.ones((1, 4, 4, 1))).shape
    (1, 4, 4, 1)
    """

    def __init__(self, height_factor, width_factor, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0, data_format=None,
                 **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self._height_range = _keras_range("RandomTranslation", "height_factor", height_factor)
        self._width_range = _keras_range("RandomTranslation", "width_factor", width_factor)

    def get_random_transformation(self, images, training=True, draws=None):
        if not training:
            return None
        n, h, w = self._size(images)
        dy = krandom.uniform([n, 1], *self._height_range, seed=draws.next()) * h
        dx = krandom.uniform([n, 1], *self._width_range, seed=draws.next()) * w
        return {"translations": jnp.concatenate([dx, dy], axis=1).astype("float32"),
                "height": h, "width": w}

    def _transform_images(self, images, transformation, interpolation):
        t = transformation["translations"]
        n = t.shape[0]
        ones, zeros = jnp.ones((n, 1)), jnp.zeros((n, 1))
        matrix = jnp.concatenate([ones, zeros, -t[:, 0:1], zeros, ones, -t[:, 1:],
                                  jnp.zeros((n, 2))], axis=1)
        return self._warp(images, matrix, interpolation)

    def transform_bounding_boxes(self, bounding_boxes, transformation, training=True):
        if not training or transformation is None:
            return bounding_boxes
        shift = jnp.tile(transformation["translations"], 2)[:, None, :]
        return self._boxes(bounding_boxes, transformation, lambda boxes: boxes + shift)

    def get_config(self):
        return {**super().get_config(), "height_factor": self.height_factor,
                "width_factor": self.width_factor}


class RandomContrast(_RandomImageLayer):
    """Scales each image's contrast by a random factor in `[1-lower, 1+upper]`.

    `(x - mean) * factor + mean` per image and channel, clipped to `value_range`
    (training only).

    Args:
        factor: float or `(lower, upper)` tuple.
        value_range: the `(min, max)` range of the input values (default `(0, 255)`).

    Example:
    >>> import jax, numpy as np
    >>> layer = RandomContrast(0.5)
    >>> y, _ = layer.apply({}, np.full((1, 2, 2, 1), 7.0), training=True,
    ...                    rng=jax.random.PRNGKey(0))
    >>> y.ravel().tolist()
    [7.0, 7.0, 7.0, 7.0]
    """

    def __init__(self, factor, value_range=(0, 255), seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor, self.value_range = factor, tuple(value_range)
        lo, hi = _range(factor, "factor", symmetric=False)
        self._bounds = (lo, hi)

    def _augment(self, x, rng):
        lo, hi = self._bounds
        f = jax.random.uniform(rng, (x.shape[0], 1, 1, 1), x.dtype, 1.0 - lo, 1.0 + hi)
        mean = jnp.mean(x, axis=(1, 2), keepdims=True)
        return jnp.clip((x - mean) * f + mean, *self.value_range)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range}


class RandomBrightness(_RandomImageLayer):
    """Adds a random brightness delta to each image (training only).

    The delta is `U(lower, upper) * (value_range[1] - value_range[0])`; the result is
    clipped to `value_range`.

    Args:
        factor: float `f` for `[-f, f]`, or a `(lower, upper)` tuple, within [-1, 1].
        value_range: the `(min, max)` range of the input values (default `(0, 255)`).

    Example:
    >>> import numpy as np
    >>> RandomBrightness(0.2)(np.ones((1, 2, 2, 1))).shape
    (1, 2, 2, 1)
    """

    def __init__(self, factor, value_range=(0, 255), seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = _range(factor, "factor")
        for f in self.factor:
            if not -1.0 <= f <= 1.0:
                raise ValueError(
                    "The `factor` argument should be a number (or a list of two numbers) in "
                    f"the range [-1.0, 1.0]. Received: factor={factor}")
        self.value_range = list(value_range)

    def _augment(self, x, rng):
        lo, hi = self.factor
        span = self.value_range[1] - self.value_range[0]
        delta = jax.random.uniform(rng, (x.shape[0], 1, 1, 1), x.dtype, lo, hi) * span
        return jnp.clip(x + delta, *self.value_range)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range}
