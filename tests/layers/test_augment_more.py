"""RandomColorDegeneration, RandomGaussianBlur, RandomErasing, RandomShear,
RandomColorJitter and Pipeline against Keras 3: fixed-factor forms equal Keras in
training, random forms keep shape/range and depend only on the key; errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kerax.layers as kl
from kerax.errors import LayerShapeError

KEY = jax.random.PRNGKey(3)


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).uniform(0, 255, (3, 6, 5, 3)).astype("float32")


def _run(layer, x, key=KEY, training=True):
    return np.asarray(layer.apply({}, x, training=training, rng=key)[0])


# Forms whose output does not depend on the draw: equal to Keras in training.
FIXED = [
    ("RandomColorDegeneration", dict(factor=(1.0, 1.0), value_range=(0, 1)), "unit"),
    ("RandomColorDegeneration", dict(factor=(0.3, 0.3)), "single"),
    ("RandomGaussianBlur", dict(factor=(1.0, 1.0), sigma=(0.5, 0.5), kernel_size=5), "batch"),
    ("RandomGaussianBlur", dict(factor=(1.0, 1.0), sigma=(0.9, 0.9),
                                data_format="channels_first"), "first"),
    ("RandomGaussianBlur", dict(factor=0.0), "batch"),
    ("RandomErasing", dict(factor=(1.0, 1.0), scale=(1.0, 1.0), fill_value=300.0), "batch"),
    ("RandomErasing", dict(factor=0.0), "single"),
    ("RandomShear", dict(x_factor=0.0, y_factor=0.0, fill_mode="nearest"), "single"),
    ("RandomColorJitter", dict(brightness_factor=(0.2, 0.2), contrast_factor=(0.0, 0.0),
                               hue_factor=0.0), "batch"),
    ("RandomColorJitter", dict(), "batch"),
]


def _inputs(kind, x):
    return {"batch": x, "single": x[0], "unit": x / 255.0,
            "first": np.moveaxis(x, -1, 1)}[kind]


@pytest.mark.parametrize("name,kwargs,kind", FIXED, ids=[f"{n}-{k}" for n, _, k in FIXED])
def test_fixed_forms_equal_keras_in_training(keras, images, name, kwargs, kind):
    x = _inputs(kind, images)
    expected = getattr(keras.layers, name)(**kwargs)(x, training=True)
    got = _run(getattr(kl, name)(**kwargs), x)
    np.testing.assert_allclose(got, np.asarray(expected), rtol=1e-5, atol=1e-3)


RANDOM = [
    ("RandomColorDegeneration", dict(factor=(0.0, 1.0))),
    ("RandomGaussianBlur", dict(sigma=(0.5, 1.0))),
    ("RandomErasing", dict(scale=(0.1, 0.5))),
    ("RandomShear", dict(x_factor=0.4, y_factor=0.4, fill_mode="constant")),
    ("RandomColorJitter", dict(brightness_factor=0.3, contrast_factor=0.3,
                               saturation_factor=0.5, hue_factor=0.3)),
]


@pytest.mark.parametrize("name,kwargs", RANDOM, ids=[n for n, _ in RANDOM])
def test_random_forms_depend_only_on_the_key(images, name, kwargs):
    layer = getattr(kl, name)(**kwargs)
    a, b = _run(layer, images), _run(layer, images)
    c = _run(layer, images, key=jax.random.PRNGKey(11))
    assert a.shape == images.shape and a.dtype == np.float32
    assert a.min() >= 0.0 and a.max() <= 255.0 + 1e-3
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    np.testing.assert_array_equal(_run(layer, images, training=False), images)


@pytest.mark.parametrize("name,kwargs", RANDOM, ids=[n for n, _ in RANDOM])
def test_training_step_jits_and_vmaps(images, name, kwargs):
    layer = getattr(kl, name)(**kwargs)
    fn = lambda x, key: layer.apply({}, x, training=True, rng=key)[0]  # noqa: E731
    np.testing.assert_allclose(jax.jit(fn)(images, KEY), _run(layer, images), atol=1e-3)
    keys = jax.random.split(KEY, 2)
    batched = jax.vmap(fn)(jnp.stack([images, images]), keys)
    np.testing.assert_allclose(batched[1], fn(images, keys[1]), atol=1e-3)


def test_eager_call_trains_by_default(images):
    layer = kl.RandomColorDegeneration((1.0, 1.0))
    gray = layer(images)
    assert np.allclose(gray[..., 0], gray[..., 1])
    np.testing.assert_array_equal(layer(images, training=False), images)


def test_degeneration_blends_towards_gray(images):
    out = _run(kl.RandomColorDegeneration((0.5, 0.5)), images)
    gray = images @ np.array([0.2989, 0.5870, 0.1140], "float32")
    np.testing.assert_allclose(out, (images + gray[..., None]) / 2, rtol=1e-5, atol=1e-3)
    one_channel = images[..., :1]
    np.testing.assert_array_equal(_run(kl.RandomColorDegeneration(1.0), one_channel),
                                  one_channel)


def test_gaussian_blur_keeps_constant_interior():
    x = np.full((1, 5, 5, 2), 9.0, "float32")
    out = _run(kl.RandomGaussianBlur(factor=(1.0, 1.0)), x)
    np.testing.assert_allclose(out[0, 1:-1, 1:-1], 9.0, rtol=1e-5)
    assert out[0, 0, 0, 0] < 9.0  # zero padding at the border, as Keras


def test_erasing_fills_one_rectangle(images):
    layer = kl.RandomErasing(factor=(1.0, 1.0), scale=(0.2, 0.5), fill_value=[1.0, 2.0, 3.0])
    out = _run(layer, images)
    for img, res in zip(images, out):
        erased = np.any(res != img, axis=-1)
        rows, cols = np.nonzero(erased)
        assert erased.sum() == (np.ptp(rows) + 1) * (np.ptp(cols) + 1)
        np.testing.assert_array_equal(res[erased], np.broadcast_to([1.0, 2.0, 3.0],
                                                                   res[erased].shape))


def test_erasing_noise_fill_is_in_value_range(images):
    out = _run(kl.RandomErasing(factor=(1.0, 1.0), scale=(1.0, 1.0), value_range=(0, 1)),
               images / 255.0)
    assert out.min() >= 0.0 and out.max() <= 1.0 and not np.allclose(out, images / 255.0)


def test_shear_matches_keras_affine_transform_of_either_sign(keras, images):
    sx, sy = 0.3, 0.2
    layer = kl.RandomShear(x_factor=(sx, sx), y_factor=(sy, sy), fill_mode="constant")
    out = _run(layer, images)

    def keras_shear(s):
        matrix = np.array([[1.0, s * sx, 0.0, s * sy, 1.0, 0.0, 0.0, 0.0]], "float32")
        return np.asarray(keras.ops.image.affine_transform(
            images, np.repeat(matrix, len(images), 0), fill_mode="constant"))

    plus, minus = keras_shear(1.0), keras_shear(-1.0)
    for i in range(len(images)):
        assert np.allclose(out[i], plus[i], atol=1e-3) or np.allclose(out[i], minus[i],
                                                                      atol=1e-3)


def test_color_jitter_chains_the_colour_layers(images):
    jitter = kl.RandomColorJitter(brightness_factor=(0.1, 0.1), saturation_factor=(0.5, 0.5))
    expected = _run(kl.RandomSaturation((0.5, 0.5)),
                    _run(kl.RandomBrightness((0.1, 0.1)), images))
    np.testing.assert_allclose(_run(jitter, images), expected, rtol=1e-5, atol=1e-3)
    # Keras 3.15's jitter fails on channels_first (its sub-layers are channels_last).
    first = kl.RandomColorJitter(brightness_factor=(0.1, 0.1), saturation_factor=(0.5, 0.5),
                                 data_format="channels_first")
    np.testing.assert_allclose(_run(first, np.moveaxis(images, -1, 1)),
                               np.moveaxis(expected, -1, 1), rtol=1e-5, atol=1e-3)


# ------------------------------------------------------------------------ Pipeline --
@pytest.fixture(scope="module")
def pipelines(keras):
    def build(mod):
        return mod.Pipeline([mod.Rescaling(1 / 255.0), mod.RandomFlip("horizontal"),
                             mod.RandomColorDegeneration((1.0, 1.0), value_range=(0, 1)),
                             mod.RandomGaussianBlur(factor=(1.0, 1.0), sigma=(0.6, 0.6),
                                                    value_range=(0, 1))], name="aug")
    return build(kl), build(keras.layers)


def test_pipeline_equals_keras_at_inference(pipelines, images):
    ours, theirs = pipelines
    np.testing.assert_allclose(_run(ours, images, training=False),
                               np.asarray(theirs(images, training=False)), rtol=1e-6)


def test_pipeline_training_equals_keras_where_the_draw_does_not_matter(keras, images):
    def build(mod):
        return mod.Pipeline([mod.RandomColorDegeneration((0.5, 0.5)),
                             mod.RandomErasing(factor=0.0)])
    np.testing.assert_allclose(_run(build(kl), images),
                               np.asarray(build(keras.layers)(images)), rtol=1e-5, atol=1e-3)


def test_pipeline_config_round_trips_both_ways(keras, pipelines, images):
    ours, theirs = pipelines
    config = ours.get_config()
    clone = kl.Pipeline.from_config(config)
    assert clone.get_config() == config and [type(l).__name__ for l in clone.layers] == \
        ["Rescaling", "RandomFlip", "RandomColorDegeneration", "RandomGaussianBlur"]
    from_keras = kl.Pipeline.from_config(theirs.get_config())
    np.testing.assert_allclose(_run(from_keras, images, training=False),
                               np.asarray(theirs(images, training=False)), rtol=1e-6)
    to_keras = keras.layers.Pipeline.from_config(config)
    assert [type(l).__name__ for l in to_keras.layers] == \
        [type(l).__name__ for l in ours.layers]


def test_pipeline_keys_its_layers_and_jits(pipelines, images):
    ours, _ = pipelines
    fn = lambda x, key: ours.apply({}, x, training=True, rng=key)[0]  # noqa: E731
    a = jax.jit(fn)(images, KEY)
    np.testing.assert_allclose(a, fn(images, KEY), atol=1e-5)
    assert not np.allclose(a, fn(images, jax.random.PRNGKey(5)))
    assert a.shape == images.shape and a.max() <= 1.0


def test_pipeline_nests_sublayer_variables(images):
    pipe = kl.Pipeline([kl.Dense(2), kl.Rescaling(2.0)])
    v = pipe.init(KEY, images)
    dense = pipe.layers[0]
    assert v["params"][dense.name]["kernel"].shape == (3, 2)
    y, _ = pipe.apply(v, images)
    expected, _ = dense.apply({"params": v["params"][dense.name], "state": {}}, images)
    np.testing.assert_allclose(y, 2.0 * expected, rtol=1e-6)


# -------------------------------------------------------------------------- errors --
ERRORS = [
    (lambda: kl.RandomColorDegeneration(1.5), r"RandomColorDegeneration: `factor`.*\[-1, 1\]"),
    (lambda: kl.RandomColorDegeneration(0.5, value_range=5), r"`value_range` must be"),
    (lambda: kl.RandomGaussianBlur(kernel_size=4), r"`kernel_size` must be an odd.*=4"),
    (lambda: kl.RandomGaussianBlur(kernel_size=(3, 3, 3)), r"`kernel_size` must be an odd"),
    (lambda: kl.RandomGaussianBlur(sigma=2.0), r"RandomGaussianBlur: `sigma`.*\[0, 1\]"),
    (lambda: kl.RandomGaussianBlur(factor=-0.5), r"RandomGaussianBlur: `factor`"),
    (lambda: kl.RandomErasing(scale=(2, 3)), r"RandomErasing: `scale`.*Received: scale="),
    (lambda: kl.RandomErasing(fill_value="zero"), r"`fill_value` must be None.*'zero'"),
    (lambda: kl.RandomErasing(fill_value=[1, 2]), r"list of three numbers"),
    (lambda: kl.RandomShear(x_factor=1.5), r"RandomShear: `x_factor` must be.*=1.5"),
    (lambda: kl.RandomShear(y_factor=(0.1, 0.2, 0.3)), r"RandomShear: `y_factor`"),
    (lambda: kl.RandomShear(fill_mode="mirror"), r"fill_mode"),
    (lambda: kl.RandomShear(interpolation="cubic"), r"interpolation"),
    (lambda: kl.RandomColorJitter(hue_factor=2.0), r"RandomHue: `factor`"),
    (lambda: kl.RandomColorJitter(brightness_factor=0.2, value_range=[0]), r"value_range"),
    (lambda: kl.Pipeline(kl.RandomFlip()), r"Pipeline expects a list of `kerax.layers.Layer`"),
    (lambda: kl.Pipeline(["flip"]), r"Pipeline expects a list.*'flip'"),
    (lambda: kl.Pipeline.from_config({"name": "p"}), r"must contain a `layers` key"),
]


@pytest.mark.parametrize("make,match", ERRORS, ids=[m for _, m in ERRORS])
def test_bad_arguments_raise_clear_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize("name,kwargs", RANDOM, ids=[n for n, _ in RANDOM])
def test_wrong_rank_names_layer_expected_and_received(name, kwargs):
    layer = getattr(kl, name)(**kwargs)
    with pytest.raises(LayerShapeError,
                       match=rf"{name} '{layer.name}': expected rank >= 3 and rank <= 4, received input of "
                             r"shape \(4, 5\)"):
        layer.apply({}, np.zeros((4, 5), "float32"), training=True, rng=KEY)


@pytest.mark.parametrize("layer", [kl.RandomColorDegeneration(0.5),
                                   kl.RandomColorJitter(saturation_factor=0.5)],
                         ids=["degeneration", "jitter"])
def test_wrong_channel_count_is_named(layer):
    with pytest.raises(LayerShapeError, match=rf"'{layer.name}': expected RGB images with 3 "
                                              r"channels.*received input of shape \(1, 4, 4, 2\)"):
        layer.apply({}, np.zeros((1, 4, 4, 2), "float32"), training=True, rng=KEY)


def test_training_without_key_says_how_to_call():
    with pytest.raises(ValueError, match=r"RandomErasing .* needs a random key.*rng=jax.random"):
        kl.RandomErasing().apply({}, np.zeros((1, 4, 4, 3), "float32"), training=True)
