"""The augmentations RandAugment and AugMix choose from, as Keras 3's sublayers draw and
apply them: RandomShear, RandomTranslation, RandomRotation, RandomBrightness,
RandomColorDegeneration, RandomContrast, RandomSharpness, RandomPosterization,
Solarization, AutoContrast and Equalization, built with the parent's arguments.

`sublayers(names, ...)` makes Keras' sublayers (the parent holds them as attributes, as
Keras does: their seed states are the parent's variables, their groups are in its weight
files). `make_ops(layer, names)` returns `{name: Op}`: `op.draw(images, draws)` makes
Keras' draws in Keras' order (one `draws.next()` per Keras draw; all from the parent's
generator, as Keras' parent passes its own) and returns the transformation (None for the
two deterministic operations); `op.apply`, `op.boxes` and `op.masks` transform a batch of
images (channels last or first), bounding boxes and segmentation masks as the Keras
sublayer's `transform_images`, `transform_bounding_boxes` and
`transform_segmentation_masks` do. The three geometric operations are the kerax
sublayers' own methods; the others leave boxes and masks as they are.
"""

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp

from kerax.layers.preprocessing.augment_more import RandomColorDegeneration, RandomShear
from kerax.layers.preprocessing.color_augment import RandomPosterization, Solarization
from kerax.layers.preprocessing.color_jitter import RandomSharpness
from kerax.layers.preprocessing.contrast_equalization import AutoContrast, Equalization
from kerax.layers.preprocessing.image_layer import rescale
from kerax.layers.preprocessing.random_image import (
    RandomBrightness,
    RandomContrast,
    RandomRotation,
    RandomTranslation,
)
from kerax.ops import image as image_ops
from kerax.ops import nn as nn_ops
from kerax.random import random as krandom


def _same(x, transformation):
    return x


class Op(NamedTuple):
    draw: Callable           # (images, draws) -> transformation
    apply: Callable          # (images, transformation) -> images
    boxes: Callable = _same  # (bounding_boxes, transformation) -> bounding_boxes
    masks: Callable = _same  # (segmentation_masks, transformation) -> masks


def switch(index, branches, x):
    """`branches[index](x)`: `lax.switch` under a trace (only the picked branch runs),
    a direct call on a concrete index (eager calls skip compiling every branch).

    Example:
    >>> switch(jnp.asarray(1), [lambda v: v + 1, lambda v: v * 10], jnp.asarray(2.0)).tolist()
    20.0
    """
    if isinstance(index, jax.core.Tracer):
        return jax.lax.switch(index, branches, x)
    return branches[int(index)](x)


GEOMETRIC = ("random_shear", "random_translation", "random_rotation")


def sublayers(names, factor, value_range, interpolation, seed, data_format, **kwargs):
    """Keras' sublayers of RandAugment / AugMix, made in the order of `names` (Keras'
    order of creation, which numbers their auto names and seed generators). Like Keras,
    each gets the parent's `seed` and other keyword arguments (`name`, `dtype`,
    `bounding_box_format`).

    Example:
    >>> subs = sublayers(["random_rotation", "auto_contrast"], (0, 0.5), (0, 255),
    ...                  "bilinear", 1, None)
    >>> [type(s).__name__ for s in subs.values()], subs["random_rotation"].factor
    (['RandomRotation', 'AutoContrast'], (0, 0.5))
    """
    colour = {k: v for k, v in kwargs.items() if k != "bounding_box_format"}
    geometric = dict(interpolation=interpolation, seed=seed, data_format=data_format, **kwargs)
    random = dict(value_range=value_range, seed=seed, data_format=data_format, **colour)
    make = {
        "random_shear": lambda: RandomShear(x_factor=factor, y_factor=factor, **geometric),
        "random_translation": lambda: RandomTranslation(height_factor=factor,
                                                        width_factor=factor, **geometric),
        "random_rotation": lambda: RandomRotation(factor=factor, **geometric),
        "random_brightness": lambda: RandomBrightness(factor=factor, **random),
        "random_color_degeneration": lambda: RandomColorDegeneration(factor=factor, **random),
        "random_contrast": lambda: RandomContrast(factor=factor, **random),
        "random_sharpness": lambda: RandomSharpness(factor=factor, **random),
        "solarization": lambda: Solarization(addition_factor=factor, threshold_factor=factor,
                                             **random),
        "random_posterization": lambda: RandomPosterization(
            factor=max(1, int(8 * factor[1])), **random),
        "auto_contrast": lambda: AutoContrast(value_range=value_range,
                                              data_format=data_format, **colour),
        "equalization": lambda: Equalization(value_range=value_range, data_format=data_format,
                                             **colour),
    }
    return {name: make[name]() for name in names}


def _geometric(sub):
    return Op(lambda images, draws: sub.get_random_transformation(images, True, draws),
              sub.transform_images, sub.transform_bounding_boxes,
              sub.transform_segmentation_masks)


def make_ops(layer, names):
    """Keras' augmentations `names` of RandAugment / AugMix `layer` (which holds Keras'
    sublayers as attributes and has `factor = (low, high)`, `value_range`, `data_format`)."""
    low, high = layer.factor
    v0, v1 = sorted(layer.value_range)
    dtype, data_format = layer.compute_dtype, layer.data_format
    hw = (2, 3) if data_format == "channels_first" else (1, 2)

    def per_image(key, shape_tail=(1, 1, 1), scale=None, **kwargs):
        def draw(images, draws):
            value = krandom.uniform((images.shape[0],) + shape_tail, seed=draws.next(),
                                    **kwargs)
            return {key: value if scale is None else value * scale}
        return draw

    def brightness_apply(images, t):
        return jnp.clip(images + t["rgb_delta"].astype(images.dtype), v0, v1)

    def degeneration_apply(images, t):
        f = t["factor"]
        gray = image_ops.rgb_to_grayscale(images, data_format=data_format)
        return jnp.clip(images + f.astype(dtype) * (gray - images), v0, v1).astype(dtype)

    def contrast_apply(images, t):
        f = t["contrast_factor"]
        mean = jnp.mean(jnp.mean(images, axis=hw[0], keepdims=True), axis=hw[1], keepdims=True)
        return jnp.clip((images - mean) * f + mean, v0, v1)

    def sharpness_apply(images, t):
        f = t["factor"]
        x = jnp.swapaxes(images, -3, -1) if data_format == "channels_first" else images
        f = (f * 2).astype(dtype).reshape(-1, 1, 1, 1)
        a, b = 1.0 / 13.0, 5.0 / 13.0
        kernel = jnp.asarray([[a, a, a], [a, b, a], [a, a, a]], dtype).reshape(3, 3, 1, 1)
        kernel = jnp.tile(kernel, [1, 1, x.shape[-1], 1])
        smooth = nn_ops.depthwise_conv(x, kernel, strides=1, padding="same",
                                       data_format="channels_last").astype(dtype)
        x = jnp.clip(x + (1.0 - f) * (smooth - x), v0, v1)
        return jnp.swapaxes(x, -3, -1) if data_format == "channels_first" else x

    bits = max(1, int(8 * high))
    bits_range = (max(-bits, 1), bits)

    def posterization_draw(images, draws):
        n = images.shape[0]
        if bits_range[0] != bits_range[1]:
            kept = krandom.randint((n,), *bits_range, dtype="uint8", seed=draws.next())
        else:
            kept = jnp.ones((n,), "uint8") * bits_range[0]
        return {"shift_factor": 8 - kept}

    def posterization_apply(images, t):
        shift = t["shift_factor"]
        shift = shift.reshape(shift.shape + (1, 1, 1))
        x = rescale(images, (v0, v1), (0, 255)).astype(dtype).astype("uint8")
        x = jnp.left_shift(jnp.right_shift(x, shift), shift)
        return rescale(x.astype(dtype), (0, 255), (v0, v1)).astype(dtype)

    def solarization_draw(images, draws):
        shape = (images.shape[0], 1, 1, 1)
        additions = krandom.uniform(shape, low, high * 255, dtype=dtype, seed=draws.next())
        thresholds = krandom.uniform(shape, low, high * 255, dtype=dtype, seed=draws.next())
        return {"additions": additions, "thresholds": thresholds}

    def solarization_apply(images, t):
        additions, thresholds = t["additions"], t["thresholds"]
        x = rescale(images.astype(dtype), (v0, v1), (0, 255)).astype(dtype)
        x = jnp.clip(x + additions, 0, 255)
        x = jnp.where(x < thresholds, x, 255 - x)
        return rescale(x, (0, 255), (v0, v1)).astype(dtype)

    auto, equalize = layer.auto_contrast, layer.equalization

    def nothing(images, draws):
        return None

    ops = {
        "random_brightness": Op(per_image("rgb_delta", minval=low, maxval=high,
                                          scale=v1 - v0), brightness_apply),
        "random_color_degeneration": Op(per_image("factor", minval=low, maxval=high),
                                        degeneration_apply),
        "random_contrast": Op(per_image("contrast_factor", minval=1.0 - low,
                                        maxval=1.0 + high, dtype=dtype), contrast_apply),
        "random_sharpness": Op(per_image("factor", (), minval=low, maxval=high),
                               sharpness_apply),
        "random_posterization": Op(posterization_draw, posterization_apply),
        "solarization": Op(solarization_draw, solarization_apply),
        "auto_contrast": Op(nothing, lambda x, t: auto.apply({}, x)[0]),
        "equalization": Op(nothing, lambda x, t: equalize.apply({}, x, training=True)[0]),
    }
    return {name: _geometric(getattr(layer, name)) if name in GEOMETRIC else ops[name]
            for name in names}
