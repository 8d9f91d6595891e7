"""The augmentations RandAugment and AugMix choose from, as Keras 3's sublayers draw and
apply them (`get_random_transformation` / `transform_images` of RandomShear,
RandomTranslation, RandomRotation, RandomBrightness, RandomColorDegeneration,
RandomContrast, RandomSharpness, RandomPosterization, Solarization, AutoContrast and
Equalization, built with RandAugment's arguments).

`make_ops(...)` returns `{name: Op}`; `op.draw(images, draws)` makes Keras' draws in
Keras' order (one `draws.next()` per Keras draw) and returns Keras' transformation dict
(None for the two deterministic operations); `op.apply(images, t)` transforms a
channels-last or channels-first batch as the Keras sublayer's `transform_images` does.
"""

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp

from kerax.layers.preprocessing.contrast_equalization import AutoContrast, Equalization
from kerax.layers.preprocessing.image_layer import rescale, rotation_matrix
from kerax.ops import image as image_ops
from kerax.ops import nn as nn_ops
from kerax.random import random as krandom


class Op(NamedTuple):
    draw: Callable      # (images, draws) -> transformation
    apply: Callable     # (images, transformation) -> images


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


def make_ops(factor, value_range, interpolation, data_format, dtype):
    """Keras' eleven RandAugment/AugMix augmentations for `factor = (low, high)`."""
    low, high = factor
    v0, v1 = sorted(value_range)
    hw = (2, 3) if data_format == "channels_first" else (1, 2)

    def size(images):
        return images.shape[0], images.shape[hw[0]], images.shape[hw[1]]

    def warp(images, matrix):
        return image_ops.affine_transform(images, matrix, interpolation=interpolation,
                                          fill_mode="reflect", fill_value=0.0,
                                          data_format=data_format)

    def shear_draw(images, draws):
        n = images.shape[0]
        invert = krandom.uniform([n, 1], 0, 1, dtype=dtype, seed=draws.next())
        invert = jnp.where(invert > 0.5, -jnp.ones_like(invert), jnp.ones_like(invert))
        shear_y = krandom.uniform([n, 1], low, high, dtype=dtype, seed=draws.next())
        shear_x = krandom.uniform([n, 1], low, high, dtype=dtype, seed=draws.next())
        return {"shear_factor": jnp.concatenate([shear_x, shear_y], axis=1) * invert,
                "input_shape": images.shape}

    def shear_apply(images, t):
        s = t["shear_factor"]
        n = s.shape[0]
        ones, zeros = jnp.ones((n,)), jnp.zeros((n,))
        return warp(images, jnp.stack([ones, s[:, 0], zeros, s[:, 1], ones, zeros, zeros,
                                       zeros], axis=1))

    def translation_draw(images, draws):
        n, height, width = size(images)
        dy = krandom.uniform([n, 1], low, high, seed=draws.next()) * height
        dx = krandom.uniform([n, 1], low, high, seed=draws.next()) * width
        return {"translations": jnp.concatenate([dx, dy], axis=1).astype("float32"),
                "input_shape": images.shape}

    def translation_apply(images, t):
        t = t["translations"]
        n = t.shape[0]
        ones, zeros = jnp.ones((n, 1)), jnp.zeros((n, 1))
        return warp(images, jnp.concatenate([ones, zeros, -t[:, 0:1], zeros, ones, -t[:, 1:],
                                             jnp.zeros((n, 2))], axis=1))

    def rotation_draw(images, draws):
        n, height, width = size(images)
        angle = krandom.uniform((n,), low * 360.0, high * 360.0, seed=draws.next())
        return {"angle": angle, "image_height": height, "image_width": width, "batch_size": n,
                "rotation_matrix": rotation_matrix(angle, jnp.float32(height),
                                                    jnp.float32(width))}

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

    auto = AutoContrast(value_range=(v0, v1), data_format=data_format, dtype=dtype)
    equalize = Equalization(value_range=(v0, v1), data_format=data_format, dtype=dtype)

    def nothing(images, draws):
        return None

    return {
        "random_shear": Op(shear_draw, shear_apply),
        "random_translation": Op(translation_draw, translation_apply),
        "random_rotation": Op(rotation_draw, lambda x, t: warp(x, t["rotation_matrix"])),
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
