"""The base of image layers that port Keras 3's `BaseImagePreprocessingLayer` step by step.

A subclass writes Keras' two halves: `get_random_transformation(images, training, draws)`
(the random draws, in Keras' order, one `draws.next()` key per Keras draw) and
`transform_images(images, transformation, training)` (pure array code); bounding boxes,
labels and segmentation masks have their own `transform_*` methods, as in Keras.
`forward` runs them on a batch of images or on Keras' dict
`{"images", "labels", "bounding_boxes": {"boxes", "labels"}, "segmentation_masks"}`.
With the same `seed`, an eager call (or `apply` without `rng`) draws exactly what Keras
3 draws; in `fit` the draws come from the step's key (see `seed_state.Draws`).
"""

import math

import jax.numpy as jnp

from kerax.errors import LayerShapeError
from kerax.layers import seed_state
from kerax.layers.layer import Layer
from kerax.layers.preprocessing._base import TrainingByDefault
from kerax.layers.preprocessing._base import data_format as _data_format
from kerax.random.seed_generator import SeedGenerator

_KEYS = ("images", "labels", "bounding_boxes", "segmentation_masks")


def image_dict(layer, inputs, keys):
    """Keras' image-layer input as a dict: images (rank 3 or 4, checked), or a dict with
    an `"images"` key and optionally the other `keys`; errors name the layer."""
    name = f"{type(layer).__name__} '{layer.name}'"
    if isinstance(inputs, dict):
        unknown = sorted(set(inputs) - set(keys))
        if unknown or "images" not in inputs:
            others = ", ".join(repr(k) for k in keys[1:])
            raise ValueError(
                f"{name} takes images, or a dict with an 'images' key and optionally "
                f"{others}. Received keys: {sorted(inputs)}. Pass the other entries "
                f"around the layer.")
        data = dict(inputs)
    else:
        data = {"images": inputs}
    images = jnp.asarray(data["images"])
    if images.ndim not in (3, 4):
        raise LayerShapeError(
            f"{name} expects images of rank 3 (height, width, channels) or 4 (batch, "
            "height, width, channels) (channels first with data_format="
            f"'channels_first'), but received input of shape {images.shape}.")
    data["images"] = images
    return data


def keras_factor(layer_name, factor, bounds, name="factor"):
    """Keras' `_set_factor`: a number `f` means `(max(-f, low), f)`; a pair is sorted.

    Example:
    >>> keras_factor("RandomPerspective", 0.3, (0, 1))
    (0, 0.3)
    """
    low, high = bounds
    message = (f"{layer_name}: the `{name}` argument should be a number (or a list of two "
               f"numbers) in the range [{low}, {high}]. Received: {name}={factor}")
    if isinstance(factor, (tuple, list)):
        if len(factor) != 2 or factor[0] > high or factor[1] < low:
            raise ValueError(message)
        return tuple(sorted(factor))
    if isinstance(factor, bool) or not isinstance(factor, (int, float)):
        raise ValueError(message)
    if factor < low or factor > high:
        raise ValueError(message)
    factor = abs(factor)
    return (max(-factor, low), factor)


def rescale(images, source, target):
    """Keras' `_transform_value_range`: maps `images` linearly from `source` to `target`."""
    if source[0] == target[0] and source[1] == target[1]:
        return images
    images = images.astype("float32")
    return (images - source[0]) / (source[1] - source[0]) * (target[1] - target[0]) + target[0]


def rotation_matrix(angle, height, width):
    """Keras' `_compute_affine_matrix` for a rotation about the centre (angle in degrees)."""
    angle = angle * jnp.float32(math.pi / 180.0)
    cx, cy = 0.5 * (width - 1), 0.5 * (height - 1)
    cos, sin = jnp.cos(angle), jnp.sin(angle)
    a0, a1 = cos + 0.0 * sin, -sin + 0.0 * cos
    b0, b1 = 0.0 * cos + sin, 0.0 * -sin + cos
    a2 = 0.0 + cx - cx * a0 - cy * a1
    b2 = 0.0 + cy - cx * b0 - cy * b1
    n = angle.shape[0]
    return jnp.concatenate([a0[:, None], a1[:, None], a2[:, None], b0[:, None], b1[:, None],
                            b2[:, None], jnp.zeros((n, 2))], axis=1)


class ImagePreprocessingLayer(TrainingByDefault, Layer):
    """Keras' `BaseImagePreprocessingLayer` call logic over kerax's pure `forward`.

    Subclasses set `_random = True` to own Keras' `generator` seed state.
    """

    _random = False

    def __init__(self, seed=None, data_format=None, bounding_box_format=None, **kwargs):
        super().__init__(**kwargs)
        self.bounding_box_format = bounding_box_format
        self.data_format = _data_format(data_format)
        if self._random:
            self.seed = seed
            self.generator = SeedGenerator(seed)  # Keras' `generator` and its seed state
        channels_first = self.data_format == "channels_first"
        self.height_axis, self.width_axis = (-2, -1) if channels_first else (-3, -2)

    def build_variables(self, key, inputs, *unused):
        """The seed states of the layer's generator and of its sub-layers (RandAugment's
        operations), each sub-layer's under its attribute name, as Keras lists them."""
        state = seed_state.initial(self)
        for name, child in self._children().items():
            images = inputs["images"] if isinstance(inputs, dict) else inputs
            child_state = child.init(key, images)["state"]
            if child_state:
                state[name] = child_state
        return {}, state

    # Keras' hooks; the defaults leave everything as it is.

    def get_random_transformation(self, images, training=True, draws=None):
        return None

    def transform_images(self, images, transformation, training=True):
        raise NotImplementedError

    def transform_labels(self, labels, transformation, training=True):
        return labels

    def transform_bounding_boxes(self, bounding_boxes, transformation, training=True):
        raise NotImplementedError(
            f"{type(self).__name__} does not transform bounding boxes (as in Keras 3). "
            "Pass the boxes around the layer.")

    def transform_segmentation_masks(self, masks, transformation, training=True):
        return masks

    def _check(self, inputs):
        return image_dict(self, inputs, _KEYS)

    def forward(self, params, state, inputs, training=False, rng=None, **kwargs):
        data = self._check(inputs)
        single = data["images"].ndim == 3
        batch = _batched(data, single)
        draws = None
        if training and self._random:
            draws = seed_state.Draws(self, state, rng, "generator")
        t = self.get_random_transformation(batch["images"], training=training, draws=draws)
        out = dict(batch)
        out["images"] = self.transform_images(batch["images"], t, training=training)
        if "labels" in batch:
            out["labels"] = self.transform_labels(jnp.asarray(batch["labels"]), t,
                                                  training=training)
        if "bounding_boxes" in batch:
            if not self.bounding_box_format:
                raise ValueError(
                    "You passed an input with a 'bounding_boxes' key, but you didn't specify "
                    "a bounding box format. Pass a `bounding_box_format` argument to your "
                    f"{type(self).__name__} layer, e.g. `bounding_box_format='xyxy'`.")
            out["bounding_boxes"] = self.transform_bounding_boxes(
                dict(batch["bounding_boxes"]), t, training=training)
        if "segmentation_masks" in batch:
            out["segmentation_masks"] = self.transform_segmentation_masks(
                batch["segmentation_masks"], t, training=training)
        if draws is not None:
            state = draws.advance(state)
        out = _unbatched(out, single)
        return (out if isinstance(inputs, dict) else out["images"]), state

    def get_config(self):
        config = {**super().get_config(), "data_format": self.data_format}
        if self.bounding_box_format is not None:
            config["bounding_box_format"] = self.bounding_box_format
        return config


def _batched(data, single):
    if not single:
        if "bounding_boxes" in data:
            data = {**data, "bounding_boxes": _boxes(data["bounding_boxes"])}
        return data
    out = {"images": data["images"][None]}
    for key in ("labels", "segmentation_masks"):
        if key in data:
            out[key] = jnp.asarray(data[key])[None]
    if "bounding_boxes" in data:
        out["bounding_boxes"] = {k: v[None] for k, v in _boxes(data["bounding_boxes"]).items()}
    return out


def _unbatched(data, single):
    if not single:
        return data
    out = {k: v[0] for k, v in data.items() if k != "bounding_boxes"}
    if "bounding_boxes" in data:
        out["bounding_boxes"] = {k: v[0] for k, v in data["bounding_boxes"].items()}
    return out


def _boxes(bounding_boxes):
    if (not isinstance(bounding_boxes, dict) or "boxes" not in bounding_boxes
            or "labels" not in bounding_boxes):
        raise ValueError(
            "Expected `bounding_boxes` to be a dict with keys 'boxes' and 'labels'. "
            f"Received: bounding_boxes={bounding_boxes}")
    return {**bounding_boxes, "boxes": jnp.asarray(bounding_boxes["boxes"], "float32"),
            "labels": jnp.asarray(bounding_boxes["labels"])}
