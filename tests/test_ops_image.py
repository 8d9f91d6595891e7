"""`kerax.ops.image`: errors, random ops and JAX transforms (Keras parity is in
tests/test_ops_parity.py::test_image_parity)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kerax
from kerax.errors import UnknownIdentifierError
from kerax.ops import image

R = np.random.default_rng(0)
IMG = R.uniform(0, 1, (2, 6, 7, 3)).astype("float32")
POINTS = np.array([[0, 0], [5, 0], [0, 4], [5, 4]], "float32")


@pytest.mark.parametrize("call, error, match", [
    (lambda: image.resize(IMG, (2, 2), interpolation="bilinaer"), UnknownIdentifierError,
     "Unknown interpolation identifier: 'bilinaer'. Did you mean: 'bilinear'"),
    (lambda: image.resize(IMG, (2,)), ValueError, r"tuple of 2 positive integers.*size=\(2,\)"),
    (lambda: image.resize(IMG, (2, 2), fill_mode="wrap"), ValueError, "Only fill_mode='constant'"),
    (lambda: image.resize(IMG, (2, 2), crop_to_aspect_ratio=True, pad_to_aspect_ratio=True),
     ValueError, "Only one of `pad_to_aspect_ratio`"),
    (lambda: image.resize(IMG[0, 0], (2, 2)), ValueError,
     r"Invalid images rank: expected rank 3.*images.shape=\(7, 3\)"),
    (lambda: image.rgb_to_grayscale(IMG[..., :2]), ValueError, "expected 3 \\(RGB\\) or 1"),
    (lambda: image.rgb_to_hsv(IMG.astype("int32")), ValueError,
     "expected a float dtype. Received: images.dtype=int32"),
    (lambda: image.affine_transform(IMG, np.zeros(8), fill_mode="edge"), UnknownIdentifierError,
     "Unknown fill_mode identifier: 'edge'"),
    (lambda: image.affine_transform(IMG, np.zeros((1, 1, 8))), ValueError,
     r"Invalid transform rank.*transform.shape=\(1, 1, 8\)"),
    (lambda: image.map_coordinates(IMG[0, ..., 0], np.zeros((3, 4)), 1), ValueError,
     r"first axis as long as the rank of `inputs`.*coordinates.shape=\(3, 4\)"),
    (lambda: image.map_coordinates(IMG[0, ..., 0], np.zeros((2, 4)), 3), ValueError,
     "`order` must be 0 or 1. Received: order=3"),
    (lambda: image.perspective_transform(IMG, POINTS[:3], POINTS[:3]), ValueError,
     r"Invalid start_points shape.*\(3, 2\)"),
    (lambda: image.perspective_transform(IMG, POINTS, np.stack([POINTS, POINTS])), ValueError,
     "must have the same shape"),
    (lambda: image.scale_and_translate(IMG, (2, 2), np.ones(2), np.zeros(2), (1, 2), "area"),
     UnknownIdentifierError, "Unknown method identifier: 'area'"),
    (lambda: image.sobel_edges(IMG[0]), ValueError, "expects a 4-D batch"),
    (lambda: image.extract_patches(IMG, (2, 2, 2, 2)), ValueError,
     r"int or a tuple of 2 or 3 ints. Received: size=\(2, 2, 2, 2\)"),
    (lambda: image.pad_images(IMG, 1, 1), ValueError,
     "Must specify exactly two of top_padding, bottom_padding, target_height"),
    (lambda: image.pad_images(IMG, -1, 0, 0, 0), ValueError, "top_padding must be >= 0"),
    (lambda: image.pad_images(IMG, 1, 0, target_height=3, right_padding=0), ValueError,
     r"bottom_padding must be >= 0, but the target size is smaller.*bottom_padding=-4"),
    (lambda: image.crop_images(IMG, 1, 0, 0), ValueError,
     "Must specify exactly two of left_cropping, right_cropping, target_width"),
    (lambda: image.crop_images(IMG, None, 0, 4, target_height=5, right_cropping=0), ValueError,
     r"top_cropping must be >= 0, but the croppings exceed.*top_cropping=-3"),
    (lambda: image.crop_images(IMG, 4, 0, target_height=5, right_cropping=0), ValueError,
     r"The crop \(top_cropping \+ target_height = 9\) exceeds the image size 6"),
])
def test_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_elastic_transform_is_reproducible_and_seeded():
    a = image.elastic_transform(IMG, seed=3)
    assert a.shape == IMG.shape and a.dtype == jnp.float32
    np.testing.assert_array_equal(a, image.elastic_transform(IMG, seed=3))
    assert not np.allclose(a, image.elastic_transform(IMG, seed=4))
    gen = kerax.random.SeedGenerator(5)
    b, c = image.elastic_transform(IMG, seed=gen), image.elastic_transform(IMG, seed=gen)
    assert not np.allclose(b, c)  # the generator advanced


def test_elastic_transform_without_displacement_is_identity():
    out = image.elastic_transform(IMG, alpha=0.0, sigma=1.0, seed=0)
    np.testing.assert_allclose(out, IMG, rtol=1e-6)
    cf = image.elastic_transform(IMG.transpose(0, 3, 1, 2), alpha=0.0, sigma=1.0, seed=0,
                                 data_format="channels_first")
    np.testing.assert_allclose(cf, IMG.transpose(0, 3, 1, 2), rtol=1e-6)


def test_elastic_transform_moves_pixels_in_both_directions_independently():
    # A horizontal ramp only changes under x-displacement, a vertical ramp only under y.
    rows, cols = np.meshgrid(np.arange(16.0), np.arange(16.0), indexing="ij")
    ramps = np.stack([cols, rows], -1)[None].astype("float32")
    out = image.elastic_transform(ramps, alpha=3.0, sigma=1.0, fill_mode="nearest", seed=7)
    dx, dy = np.asarray(out - ramps)[0, 2:-2, 2:-2].reshape(-1, 2).T
    assert dx.std() > 0.1 and dy.std() > 0.1
    assert abs(np.corrcoef(dx, dy)[0, 1]) < 0.5  # Keras 3.15's fields are identical (r=1)


def test_elastic_transform_keeps_integer_dtype():
    out = image.elastic_transform((IMG[0] * 255).astype("uint8"), seed=1)
    assert out.dtype == jnp.uint8 and out.shape == (6, 7, 3)


def test_gaussian_blur_default_data_format_follows_config():
    """kerax reads `image_data_format()` when data_format is None (Keras 3.15 assumes
    channels_first there on JAX)."""
    expected = image.gaussian_blur(IMG, data_format="channels_last")
    np.testing.assert_allclose(image.gaussian_blur(IMG), expected)
    kerax.config.set_image_data_format("channels_first")
    try:
        blurred = image.gaussian_blur(IMG.transpose(0, 3, 1, 2))
    finally:
        kerax.config.set_image_data_format("channels_last")
    np.testing.assert_allclose(blurred, np.asarray(expected).transpose(0, 3, 1, 2), rtol=1e-6)


def test_ops_jit_and_grad():
    transform = jnp.array([1.1, 0.1, -0.5, 0.0, 0.9, 0.3, 0, 0])

    def loss(images, transform):
        out = image.affine_transform(image.resize(images, (4, 5)), transform)
        return jnp.sum(image.rgb_to_grayscale(out) ** 2)

    grads = jax.jit(jax.grad(loss))(IMG, transform)
    assert grads.shape == IMG.shape and bool(jnp.isfinite(grads).all())
    np.testing.assert_allclose(jax.jit(loss)(IMG, transform), loss(IMG, transform), rtol=1e-5)


def test_hsv_round_trip():
    np.testing.assert_allclose(image.hsv_to_rgb(image.rgb_to_hsv(IMG)), IMG, atol=1e-6)


def test_image_is_exported():
    assert kerax.ops.image is image
    assert set(image.__all__) >= {"resize", "affine_transform", "ssim", "extract_patches_3d"}
