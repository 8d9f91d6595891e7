"""Image ops, as `keras.ops.image`, over `jax.image`, `jax.scipy.ndimage` and `jax.lax`.

Images are `(height, width, channels)` or `(batch, height, width, channels)` for
`"channels_last"` (`(channels, height, width)` / `(batch, channels, height, width)` for
`"channels_first"`); `data_format=None` means `kerax.config.image_data_format()`.

Example:
>>> resize(jnp.ones((4, 4, 3)), (2, 2)).shape
(2, 2, 3)
"""

import jax
import jax.numpy as jnp

from kerax.backend.config import standardize_data_format
from kerax.errors import unknown_identifier
from kerax.ops.core import convert_to_tensor, saturate_cast
from kerax.ops.dtypes import result_type, standardize_dtype
from kerax.ops.nn_conv import conv
from kerax.random.seed_generator import draw_seed

_t = convert_to_tensor
RESIZE_INTERPOLATIONS = ("bilinear", "nearest", "lanczos3", "lanczos5", "bicubic")
_ORDERS = {"nearest": 0, "bilinear": 1}  # interpolation -> map_coordinates order
FILL_MODES = ("constant", "nearest", "wrap", "mirror", "reflect")
SCALE_AND_TRANSLATE_METHODS = ("linear", "bilinear", "trilinear", "cubic", "bicubic",
                               "tricubic", "lanczos3", "lanczos5")


def _check(kind, value, known):
    if value not in known:
        raise unknown_identifier(kind, value, known)
    return value


def _images(images, name="images"):
    images = _t(images)
    if images.ndim not in (3, 4):
        raise ValueError(
            f"Invalid {name} rank: expected rank 3 (single image) or rank 4 (batch of "
            f"images). Received: {name}.shape={images.shape}"
        )
    return images


def _to_nhwc(images, data_format):
    """`images` as a `(batch, height, width, channels)` batch, and the function undoing it."""
    unbatched = images.ndim == 3
    x = images[None] if unbatched else images
    first = standardize_data_format(data_format) == "channels_first"
    x = jnp.moveaxis(x, 1, -1) if first else x

    def back(y):
        y = jnp.moveaxis(y, -1, 1) if first else y
        return y[0] if unbatched else y

    return x, back


def _float_images(images):
    images = _images(images)
    if not jnp.issubdtype(images.dtype, jnp.floating):
        raise ValueError(
            "Invalid images dtype: expected a float dtype. "
            f"Received: images.dtype={standardize_dtype(images.dtype)}"
        )
    return images


def _depthwise(x, kernel):
    """Convolves each channel of the NHWC batch `x` with the 2-D `kernel` ("same" padding)."""
    channels = x.shape[-1]
    kernel = jnp.tile(kernel.astype(x.dtype)[:, :, None, None], (1, 1, 1, channels))
    return conv(x, kernel, padding="same", data_format="channels_last")


# Colour spaces.


def rgb_to_grayscale(images, data_format=None):
    """Converts RGB images to one-channel grayscale (`0.2989 R + 0.5870 G + 0.1140 B`).

    Example:
    >>> rgb_to_grayscale(jnp.ones((2, 2, 3))).shape
    (2, 2, 1)
    """
    images = _images(images)
    axis = -1 if standardize_data_format(data_format) == "channels_last" else -3
    if images.shape[axis] not in (1, 3):
        raise ValueError(
            "Invalid channel size: expected 3 (RGB) or 1 (grayscale) channels. "
            f"Received: images.shape={images.shape}"
        )
    if images.shape[axis] == 1:
        return images
    weights = jnp.array([0.2989, 0.5870, 0.1140], result_type(images.dtype, float))
    gray = jnp.tensordot(images.astype(weights.dtype), weights, axes=(axis, 0))
    return jnp.expand_dims(gray, axis).astype(images.dtype)


def rgb_to_hsv(images, data_format=None):
    """Converts float RGB images (values in [0, 1]) to HSV; all channels in [0, 1].

    Example:
    >>> rgb_to_hsv(jnp.array([[[1.0, 0.0, 0.0]]])).tolist()
    [[[0.0, 1.0, 1.0]]]
    """
    images = _float_images(images)
    axis = -1 if standardize_data_format(data_format) == "channels_last" else -3
    images = jnp.where(jnp.abs(images) < jnp.finfo(images.dtype).eps, 0.0, images)
    r, g, b = (jnp.take(images, i, axis) for i in range(3))
    value = jnp.maximum(jnp.maximum(r, g), b)
    spread = value - jnp.minimum(jnp.minimum(r, g), b)
    saturation = jnp.where(value > 0, spread / jnp.where(value > 0, value, 1.0), 0.0)
    norm = 1.0 / (6.0 * jnp.where(spread > 0, spread, 1.0))
    hue = jnp.where(value == g, norm * (b - r) + 2.0 / 6.0, norm * (r - g) + 4.0 / 6.0)
    hue = jnp.where(value == r, norm * (g - b), hue)
    hue = jnp.where(spread > 0, hue, 0.0) + (hue < 0.0).astype(hue.dtype)
    return jnp.stack([hue, saturation, value], axis=axis).astype(images.dtype)


def hsv_to_rgb(images, data_format=None):
    """Converts float HSV images (all channels in [0, 1]) to RGB.

    Example:
    >>> hsv_to_rgb(jnp.array([[[0.0, 1.0, 1.0]]])).tolist()
    [[[1.0, 0.0, 0.0]]]
    """
    images = _float_images(images)
    axis = -1 if standardize_data_format(data_format) == "channels_last" else -3
    hue, saturation, value = (jnp.take(images, i, axis) for i in range(3))
    dh = jnp.mod(hue, 1.0) * 6.0
    shifts = (jnp.clip(jnp.abs(dh - 3.0) - 1.0, 0.0, 1.0),
              jnp.clip(2.0 - jnp.abs(dh - 2.0), 0.0, 1.0),
              jnp.clip(2.0 - jnp.abs(dh - 4.0), 0.0, 1.0))
    rgb = [value * (1.0 - saturation + saturation * d) for d in shifts]
    return jnp.stack(rgb, axis=axis).astype(images.dtype)


# Resizing, padding and cropping.


def _aspect_box(height, width, target_height, target_width, pad):
    """Crop (or pad, when `pad`) sizes and offsets that give the target aspect ratio."""
    box_h = max(int(float(width * target_height) / target_width), 1)
    box_w = max(int(float(height * target_width) / target_height), 1)
    box_h, box_w = (max(height, box_h), max(width, box_w)) if pad else (
        min(height, box_h), min(width, box_w))
    return box_h, box_w, abs(int((height - box_h) / 2)), abs(int((width - box_w) / 2))


def resize(images, size, interpolation="bilinear", antialias=False,
           crop_to_aspect_ratio=False, pad_to_aspect_ratio=False, fill_mode="constant",
           fill_value=0.0, data_format=None):
    """Resizes images to `size = (height, width)` with `jax.image.resize`.

    Args:
        images: a 3-D image or 4-D batch.
        size: `(height, width)` of the output.
        interpolation: `"bilinear"`, `"nearest"`, `"bicubic"`, `"lanczos3"`, `"lanczos5"`.
        antialias: whether to low-pass filter when downsampling.
        crop_to_aspect_ratio: crop the largest centred window with the target aspect
            ratio first, so the image is not distorted.
        pad_to_aspect_ratio: pad the short side evenly with `fill_value` first instead.
        fill_mode: only `"constant"`.
        fill_value: padding value for `pad_to_aspect_ratio`.
        data_format: `"channels_last"` or `"channels_first"`.

    Returns:
        The resized images, in the input dtype (integer results are rounded and clipped).

    Example:
    >>> resize(jnp.ones((1, 4, 6, 3)), (2, 2), crop_to_aspect_ratio=True).shape
    (1, 2, 2, 3)
    """
    if len(size) != 2 or size[0] <= 0 or size[1] <= 0:
        raise ValueError(
            "`size` must be a tuple of 2 positive integers (height, width). "
            f"Received: size={size}"
        )
    _check("interpolation", interpolation, RESIZE_INTERPOLATIONS)
    if fill_mode != "constant":
        raise ValueError(
            f"Only fill_mode='constant' is supported by resize. Received: fill_mode={fill_mode!r}"
        )
    if pad_to_aspect_ratio and crop_to_aspect_ratio:
        raise ValueError(
            "Only one of `pad_to_aspect_ratio` and `crop_to_aspect_ratio` can be True."
        )
    images = _images(images)
    x, back = _to_nhwc(images, data_format)
    if crop_to_aspect_ratio or pad_to_aspect_ratio:
        _, height, width, _ = x.shape
        box_h, box_w, top, left = _aspect_box(height, width, *size, pad_to_aspect_ratio)
        if crop_to_aspect_ratio:
            x = x[:, top:top + box_h, left:left + box_w]
        else:
            x = jnp.pad(x, ((0, 0), (top, top), (left, left), (0, 0)),
                        constant_values=jnp.asarray(fill_value, x.dtype))
    out = jax.image.resize(x, (x.shape[0], *size, x.shape[-1]), method=interpolation,
                           antialias=antialias)
    if out.dtype != images.dtype and not jnp.issubdtype(images.dtype, jnp.floating):
        out = saturate_cast(jnp.round(out), images.dtype)
    return back(out.astype(images.dtype))


def _sides(name, before, after, target):
    if [before, after, target].count(None) != 1:
        raise ValueError(
            f"Must specify exactly two of {name[0]}, {name[1]}, {name[2]}. Received: "
            f"{name[0]}={before}, {name[1]}={after}, {name[2]}={target}"
        )
    for n, v in zip(name, (before, after, target)):
        if v is not None and v < 0:
            raise ValueError(f"{n} must be >= 0. Received: {n}={v}")
    return before, after, target


def pad_images(images, top_padding=None, left_padding=None, bottom_padding=None,
               right_padding=None, target_height=None, target_width=None, data_format=None):
    """Zero-pads images; give two of (top, bottom, target_height) and of (left, right, width).

    Example:
    >>> pad_images(jnp.ones((2, 2, 1)), 1, 0, target_height=4, target_width=3).shape
    (4, 3, 1)
    """
    images = _images(images)
    x, back = _to_nhwc(images, data_format)
    pads = []
    for names, (before, after, target), size in (
        (("top_padding", "bottom_padding", "target_height"),
         (top_padding, bottom_padding, target_height), x.shape[1]),
        (("left_padding", "right_padding", "target_width"),
         (left_padding, right_padding, target_width), x.shape[2]),
    ):
        before, after, target = _sides(names, before, after, target)
        before = target - after - size if before is None else before
        after = target - before - size if after is None else after
        for n, v in zip(names, (before, after)):
            if v < 0:
                raise ValueError(
                    f"{n} must be >= 0, but the target size is smaller than the image. "
                    f"Received: {n}={v} for images.shape={images.shape}"
                )
        pads.append((before, after))
    return back(jnp.pad(x, ((0, 0), *pads, (0, 0))))


def crop_images(images, top_cropping=None, left_cropping=None, bottom_cropping=None,
                right_cropping=None, target_height=None, target_width=None, data_format=None):
    """Crops images; give two of (top, bottom, target_height) and of (left, right, width).

    Example:
    >>> crop_images(jnp.ones((4, 4, 1)), 1, 1, target_height=2, target_width=2).shape
    (2, 2, 1)
    """
    images = _images(images)
    x, back = _to_nhwc(images, data_format)
    starts, sizes = [], []
    for names, (before, after, target), size in (
        (("top_cropping", "bottom_cropping", "target_height"),
         (top_cropping, bottom_cropping, target_height), x.shape[1]),
        (("left_cropping", "right_cropping", "target_width"),
         (left_cropping, right_cropping, target_width), x.shape[2]),
    ):
        before, after, target = _sides(names, before, after, target)
        before = size - target - after if before is None else before
        target = size - after - before if target is None else target
        for n, v in ((names[0], before), (names[2], target)):
            if v < 0:
                raise ValueError(
                    f"{n} must be >= 0, but the croppings exceed the image. "
                    f"Received: {n}={v} for images.shape={images.shape}"
                )
        if before + target > size:
            raise ValueError(
                f"The crop ({names[0]} + {names[2]} = {before + target}) exceeds the image "
                f"size {size} along that axis. Received: images.shape={images.shape}"
            )
        starts.append(before)
        sizes.append(target)
    out = jax.lax.dynamic_slice(x, (0, *starts, 0), (x.shape[0], *sizes, x.shape[-1]))
    return back(out)


# Geometric transforms.


def map_coordinates(inputs, coordinates, order, fill_mode="constant", fill_value=0):
    """Samples `inputs` at `coordinates` (shape `(inputs.ndim, ...)`), as scipy's.

    Args:
        inputs: the array to sample.
        coordinates: one array of positions per axis of `inputs`.
        order: 0 (nearest) or 1 (linear) interpolation.
        fill_mode: `"constant"`, `"nearest"`, `"wrap"`, `"mirror"` or `"reflect"`.
        fill_value: the value outside `inputs` when `fill_mode="constant"`.

    Example:
    >>> map_coordinates(jnp.array([0.0, 10.0]), jnp.array([[0.5]]), 1).tolist()
    [5.0]
    """
    inputs, coordinates = _t(inputs), _t(coordinates)
    if coordinates.ndim < 2 or coordinates.shape[0] != inputs.ndim:
        raise ValueError(
            "`coordinates` must have rank >= 2 and a first axis as long as the rank of "
            f"`inputs`. Received: inputs.shape={inputs.shape}, "
            f"coordinates.shape={coordinates.shape}"
        )
    _check("fill_mode", fill_mode, FILL_MODES)
    if order not in (0, 1):
        raise ValueError(f"`order` must be 0 or 1. Received: order={order!r}")
    return jax.scipy.ndimage.map_coordinates(inputs, coordinates, order, fill_mode, fill_value)


def _sample(x, ys, xs, interpolation, fill_mode, fill_value):
    """Samples each image and channel of the NHWC batch `x` at per-image `(ys, xs)`."""
    order = _ORDERS[interpolation]

    def one_channel(channel, y, x_):
        return jax.scipy.ndimage.map_coordinates(channel, (y, x_), order, fill_mode, fill_value)

    per_channel = jax.vmap(one_channel, in_axes=(-1, None, None), out_axes=-1)
    return jax.vmap(per_channel)(x, ys, xs).astype(x.dtype)


def affine_transform(images, transform, interpolation="bilinear", fill_mode="constant",
                     fill_value=0, data_format=None):
    """Applies projective transforms `[a0, a1, a2, b0, b1, b2, c0, c1]` (output -> input).

    The output pixel `(x, y)` takes the input at `(a0 x + a1 y + a2, b0 x + b1 y + b2)`;
    as in Keras on JAX, `c0` and `c1` are ignored.

    Example:
    >>> shift = jnp.array([1.0, 0, 1, 0, 1, 0, 0, 0])  # read one pixel to the right
    >>> affine_transform(jnp.arange(3.0)[None, :, None], shift)[0, :, 0].tolist()
    [1.0, 2.0, 0.0]
    """
    _check("interpolation", interpolation, tuple(_ORDERS))
    _check("fill_mode", fill_mode, FILL_MODES)
    images, transform = _images(images), _t(transform)
    if transform.ndim not in (1, 2):
        raise ValueError(
            "Invalid transform rank: expected rank 1 (one transform) or 2 (a batch of "
            f"transforms). Received: transform.shape={transform.shape}"
        )
    x, back = _to_nhwc(images, data_format)
    transform = jnp.broadcast_to(transform, (x.shape[0], transform.shape[-1]))
    rows, cols = jnp.meshgrid(jnp.arange(x.shape[1]), jnp.arange(x.shape[2]), indexing="ij")
    t = transform[:, :, None, None]
    xs = t[:, 0] * cols + t[:, 1] * rows + t[:, 2]
    ys = t[:, 3] * cols + t[:, 4] * rows + t[:, 5]
    return back(_sample(x, ys, xs, interpolation, fill_mode, fill_value))


def _homography(start_points, end_points):
    """The 8 coefficients mapping `end_points` onto `start_points` (output -> input)."""
    sx, sy = start_points[..., 0], start_points[..., 1]
    ex, ey = end_points[..., 0], end_points[..., 1]
    zero, one = jnp.zeros_like(ex), jnp.ones_like(ex)
    x_rows = jnp.stack([ex, ey, one, zero, zero, zero, -sx * ex, -sx * ey], axis=-1)
    y_rows = jnp.stack([zero, zero, zero, ex, ey, one, -sy * ex, -sy * ey], axis=-1)
    matrix = jnp.concatenate([x_rows, y_rows], axis=-2)
    target = jnp.concatenate([sx, sy], axis=-1)[..., None]
    return jnp.linalg.solve(matrix, target)[..., 0]


def perspective_transform(images, start_points, end_points, interpolation="bilinear",
                          fill_value=0, data_format=None):
    """Warps images so that the four `start_points` (x, y) move to `end_points`.

    Example:
    >>> corners = jnp.array([[0.0, 0.0], [3.0, 0.0], [0.0, 3.0], [3.0, 3.0]])
    >>> image = jnp.arange(16.0).reshape(4, 4, 1)
    >>> bool((perspective_transform(image, corners, corners) == image).all())
    True
    """
    _check("interpolation", interpolation, tuple(_ORDERS))
    images = _images(images)
    start_points, end_points = _t(start_points, "float32"), _t(end_points, "float32")
    for name, points in (("start_points", start_points), ("end_points", end_points)):
        if points.shape[-2:] != (4, 2) or points.ndim not in (2, 3):
            raise ValueError(
                f"Invalid {name} shape: expected (4, 2) for one image or (N, 4, 2) for a "
                f"batch. Received: {name}.shape={points.shape}"
            )
    if start_points.shape != end_points.shape:
        raise ValueError(
            "`start_points` and `end_points` must have the same shape. Received: "
            f"start_points.shape={start_points.shape}, end_points.shape={end_points.shape}"
        )
    x, back = _to_nhwc(images, data_format)
    h = _homography(start_points.reshape(-1, 4, 2), end_points.reshape(-1, 4, 2))
    h = jnp.broadcast_to(h, (x.shape[0], 8))[:, :, None, None]
    rows, cols = jnp.meshgrid(jnp.arange(x.shape[1]), jnp.arange(x.shape[2]), indexing="ij")
    denom = h[:, 6] * cols + h[:, 7] * rows + 1.0
    xs = (h[:, 0] * cols + h[:, 1] * rows + h[:, 2]) / denom
    ys = (h[:, 3] * cols + h[:, 4] * rows + h[:, 5]) / denom
    return back(_sample(x, ys, xs, interpolation, "constant", fill_value))


def scale_and_translate(images, output_shape, scale, translation, spatial_dims, method,
                        antialias=True):
    """`jax.image.scale_and_translate`: resamples `spatial_dims` with `scale`/`translation`.

    Example:
    >>> scale_and_translate(jnp.ones((4, 4)), (2, 2), jnp.array([0.5, 0.5]),
    ...                     jnp.zeros(2), (0, 1), "linear").shape
    (2, 2)
    """
    _check("method", method, SCALE_AND_TRANSLATE_METHODS)
    return jax.image.scale_and_translate(_t(images), output_shape, spatial_dims, _t(scale),
                                         _t(translation), method, antialias)


# Filters.


def _gaussian_1d(size, sigma, dtype):
    x = jnp.arange(size, dtype=dtype) - jnp.asarray((size - 1) / 2, dtype)
    kernel = jnp.exp(-0.5 * (x / sigma) ** 2)
    return kernel / jnp.sum(kernel)


def gaussian_blur(images, kernel_size=(3, 3), sigma=(1.0, 1.0), data_format=None):
    """Blurs each channel with a Gaussian kernel ("same" padding with zeros).

    As in Keras, the kernel's rows (height) use `kernel_size[1]` and `sigma[1]`, its
    columns `kernel_size[0]` and `sigma[0]`.

    Example:
    >>> gaussian_blur(jnp.ones((1, 5, 5, 2)))[0, 2, 2].round(4).tolist()
    [1.0, 1.0]
    """
    images = _images(images)
    x, back = _to_nhwc(images, data_format)
    sigma = _t(sigma, x.dtype)
    kernel = jnp.outer(_gaussian_1d(kernel_size[1], sigma[1], x.dtype),
                       _gaussian_1d(kernel_size[0], sigma[0], x.dtype))
    return back(_depthwise(x, kernel))


def elastic_transform(images, alpha=20.0, sigma=5.0, interpolation="bilinear",
                      fill_mode="reflect", fill_value=0.0, seed=None, data_format=None):
    """Displaces pixels by smooth random fields (Gaussian-blurred noise scaled by `alpha`).

    `seed` is an int, a `kerax.random.SeedGenerator`, a JAX key or None. Unlike Keras 3.15
    (which draws both fields from the same seed, so pixels only move along the diagonal),
    the x and y fields are independent.

    Example:
    >>> elastic_transform(jnp.ones((8, 8, 3)), seed=1).shape
    (8, 8, 3)
    """
    _check("interpolation", interpolation, tuple(_ORDERS))
    _check("fill_mode", fill_mode, FILL_MODES)
    images = _images(images)
    x, back = _to_nhwc(images, data_format)
    batch, height, width, _ = x.shape
    kernel_size = int(6 * sigma) | 1
    dtype = result_type(x.dtype, float)
    kernel = jnp.outer(*(2 * [_gaussian_1d(kernel_size, sigma, dtype)]))
    noise = jax.random.normal(draw_seed(seed), (batch, height, width, 2), dtype) * sigma
    dy, dx = jnp.moveaxis(_depthwise(noise, kernel), -1, 0)
    rows, cols = jnp.meshgrid(jnp.arange(height), jnp.arange(width), indexing="ij")
    return back(_sample(x, rows + alpha * dy, cols + alpha * dx, interpolation, fill_mode,
                        fill_value))


def sobel_edges(images, data_format=None):
    """Sobel edge maps: a last axis of size 2 holding the `(dy, dx)` responses.

    Example:
    >>> ramp = jnp.tile(jnp.arange(4.0), (4, 1))[None, :, :, None]
    >>> sobel_edges(ramp)[0, 1, 1].tolist()  # [[dy, dx]] of one channel
    [[0.0, 8.0]]
    """
    images = _t(images)
    if images.ndim != 4:
        raise ValueError(
            f"sobel_edges expects a 4-D batch of images. Received: images.shape={images.shape}"
        )
    x, back = _to_nhwc(images, data_format)
    sobel_y = jnp.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], x.dtype)
    return jnp.stack([back(_depthwise(x, sobel_y)), back(_depthwise(x, sobel_y.T))], -1)


def ssim(image1, image2, max_val=1.0, filter_size=11, filter_sigma=1.5, k1=0.01, k2=0.03,
         data_format=None):
    """Structural similarity index (per image, averaged over channels).

    Example:
    >>> image = jnp.linspace(0, 1, 144).reshape(12, 12, 1)
    >>> round(float(ssim(image, image)), 4)
    1.0
    """
    image1, image2 = _images(image1, "image1"), _images(image2, "image2")
    dtype = result_type(image1.dtype, float)
    a, back = _to_nhwc(image1.astype(dtype), data_format)
    b, _ = _to_nhwc(image2.astype(dtype), data_format)
    g = _gaussian_1d(filter_size, filter_sigma, dtype)
    kernel = jnp.outer(g, g)[:, :, None, None]

    def blur(v):  # valid-padded blur of each channel, channels folded into the batch
        v = jnp.moveaxis(v, -1, 1).reshape(-1, v.shape[1], v.shape[2], 1)
        return conv(v, kernel, padding="valid", data_format="channels_last")

    mu1, mu2 = blur(a), blur(b)
    s11, s22, s12 = blur(a * a) - mu1 * mu1, blur(b * b) - mu2 * mu2, blur(a * b) - mu1 * mu2
    c1, c2 = (k1 * max_val) ** 2, (k2 * max_val) ** 2
    ssim_map = ((2 * mu1 * mu2 + c1) * (2 * s12 + c2)
                / ((mu1 * mu1 + mu2 * mu2 + c1) * (s11 + s22 + c2)))
    per_image = jnp.mean(ssim_map, axis=(1, 2, 3)).reshape(a.shape[0], a.shape[-1]).mean(-1)
    out = per_image[0] if image1.ndim == 3 else per_image
    return out.astype(image1.dtype)


# Patches.


def _extract(images, size, strides, dilation_rate, padding, data_format, rank):
    size = (size,) * rank if isinstance(size, int) else tuple(size)
    x = images[None] if images.ndim == rank + 1 else images
    first = standardize_data_format(data_format) == "channels_first"
    channels = x.shape[1] if first else x.shape[-1]
    dim = channels
    for s in size:
        dim *= s
    kernel = jnp.eye(dim, dtype=x.dtype).reshape(*size, channels, dim)
    out = conv(x, kernel, strides=strides or size, padding=padding, data_format=data_format,
               dilation_rate=dilation_rate)
    return out[0] if images.ndim == rank + 1 else out


def extract_patches(images, size, strides=None, dilation_rate=1, padding="valid",
                    data_format=None):
    """Patches of `size` (2-D, or 3-D for volumes) flattened into the channel axis.

    Args:
        images: a 3-D image or 4-D batch (4-D/5-D volumes when `size` has 3 entries).
        size: the patch size, an int or a tuple of 2 (or 3) ints.
        strides: the patch step; defaults to `size` (non-overlapping patches).
        dilation_rate: spacing of the sampled pixels inside a patch.
        padding: `"valid"` or `"same"`.
        data_format: `"channels_last"` or `"channels_first"`.

    Example:
    >>> extract_patches(jnp.ones((1, 4, 4, 3)), 2).shape
    (1, 2, 2, 12)
    """
    if not isinstance(size, int) and (not isinstance(size, (tuple, list))
                                      or len(size) not in (2, 3)):
        raise ValueError(
            f"`size` must be an int or a tuple of 2 or 3 ints. Received: size={size!r}"
        )
    rank = 3 if not isinstance(size, int) and len(size) == 3 else 2
    return _extract(_t(images), size, strides, dilation_rate, padding, data_format, rank)


def extract_patches_3d(volumes, size, strides=None, dilation_rate=1, padding="valid",
                       data_format=None):
    """3-D patches of `size` from a 4-D volume or 5-D batch, flattened into channels.

    Example:
    >>> extract_patches_3d(jnp.ones((4, 4, 4, 1)), 2).shape
    (2, 2, 2, 8)
    """
    return _extract(_t(volumes), size, strides, dilation_rate, padding, data_format, 3)


__all__ = sorted(
    n for n, v in globals().items()
    if callable(v) and not n.startswith("_") and getattr(v, "__module__", "") == __name__
)
