"""RandAugment and AugMix against Keras 3: each of the eleven operations draws and applies
what Keras' sublayer does; seeded RandAugment calls equal Keras'; AugMix's weights equal
Keras' and, given the same picks, its output; configs, fit without recompiles, errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kerax
import kerax.layers as kl
from kerax.layers import seed_state
from kerax.layers.preprocessing.rand_augment import AUGMENT_LAYERS
from kerax.trainer import compile_cache

IMAGES = np.random.default_rng(0).uniform(0, 255, (3, 10, 9, 3)).astype("float32")
OPS = list(AUGMENT_LAYERS)
# Keras' geometric transformations carry the image size as `input_shape` (or
# `image_height`, `image_width`, `batch_size`); kerax's sublayers' as `height`, `width`.
SIZE_KEYS = {"input_shape", "image_height", "image_width", "batch_size"}


def _draws(seed):
    return seed_state.Draws(None, {"generator": jnp.array([seed, 0], jnp.uint32)}, None)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("name", OPS)
def test_each_operation_draws_and_applies_as_keras_sublayer(keras, name, data_format):
    if name == "auto_contrast" and data_format == "channels_first":
        pytest.skip("Keras 3.15's AutoContrast reduces over the wrong axes channels-first")
    x = IMAGES if data_format == "channels_last" else np.moveaxis(IMAGES, -1, 1)
    op = kl.RandAugment(seed=1, data_format=data_format)._ops[name]
    sub = getattr(keras.layers.RandAugment(seed=1, data_format=data_format), name)
    theirs = sub.get_random_transformation(x, seed=keras.random.SeedGenerator(7))
    ours = op.draw(jnp.asarray(x), _draws(7))
    if theirs is not None:
        h, w = x.shape[2:] if data_format == "channels_first" else x.shape[1:3]
        assert set(theirs) - set(ours) <= SIZE_KEYS
        assert (ours.get("height", h), ours.get("width", w)) == (h, w)
        theirs = {k: v for k, v in theirs.items() if k not in SIZE_KEYS}
        ours = {k: ours[k] for k in theirs}
    jax.tree_util.tree_map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-6), ours,
                           theirs)
    np.testing.assert_allclose(op.apply(jnp.asarray(x), ours),
                               sub.transform_images(jnp.asarray(x), theirs), atol=1e-3)


@pytest.mark.parametrize("kwargs", [
    dict(seed=1),
    pytest.param(dict(seed=3, num_ops=3, factor=0.8, interpolation="nearest"),
                 marks=pytest.mark.slow),
    pytest.param(dict(seed=4, value_range=(0, 1)), marks=pytest.mark.slow),
    # a seed whose picks avoid AutoContrast (Keras 3.15's is wrong channels-first)
    dict(seed=7, data_format="channels_first", factor=0.2),
], ids=["default", "strong", "unit", "channels_first"])
def test_seeded_rand_augment_equals_keras(keras, kwargs):
    x = IMAGES / 255.0 if kwargs.get("value_range") == (0, 1) else IMAGES
    if kwargs.get("data_format") == "channels_first":
        x = np.moveaxis(x, -1, 1)
    theirs, ours = keras.layers.RandAugment(name="ra", **kwargs), kl.RandAugment(name="ra",
                                                                                 **kwargs)
    for _ in range(2):  # the second call draws from the advanced seed state
        np.testing.assert_allclose(ours(x), theirs(x), rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(ours(x[0]), theirs(x[0]), rtol=1e-5, atol=1e-3)
    assert np.asarray(ours.generator.state).tolist() == np.asarray(
        theirs.generator.state.value).tolist()
    assert ours.get_config() == theirs.get_config()
    assert kl.RandAugment.from_config(ours.get_config()).get_config() == ours.get_config()


def _keras_chains(layer, t):
    names = list(layer._ops)
    return [[{"layer_name": names[int(p)], "transformation": t["transforms"][c][d][names[int(p)]]}
             for d, p in enumerate(np.asarray(t["picks"][c])) if int(p) < len(names)]
            for c in range(layer.num_chains)]


@pytest.mark.parametrize("kwargs", [
    dict(seed=1), dict(seed=2, all_ops=False, num_chains=2, chain_depth=2, factor=0.6, alpha=0.5),
], ids=["default", "basic"])
def test_aug_mix_weights_and_output_as_keras(keras, kwargs):
    ours, theirs = kl.AugMix(name="am", **kwargs), keras.layers.AugMix(name="am", **kwargs)
    t = ours.get_random_transformation(jnp.asarray(IMAGES), True, _draws(kwargs["seed"]))
    kt = theirs.get_random_transformation(IMAGES)
    np.testing.assert_allclose(t["chain_mixing_weights"], kt["chain_mixing_weights"], rtol=1e-6)
    np.testing.assert_allclose(t["weight_sample"], kt["weight_sample"], rtol=1e-6)
    want = theirs.transform_images(IMAGES, {**kt, "chain_transforms": _keras_chains(ours, t)})
    got = ours.transform_images(jnp.asarray(IMAGES), t)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-3)
    assert ours.get_config() == theirs.get_config()
    assert kl.AugMix.from_config(ours.get_config()).get_config() == ours.get_config()


def test_aug_mix_eager_call_uses_its_draws_and_advances_the_seed_state():
    layer = kl.AugMix(seed=5, num_chains=2, chain_depth=2)
    t = layer.get_random_transformation(jnp.asarray(IMAGES), True, _draws(5))
    np.testing.assert_allclose(layer(IMAGES), layer.transform_images(jnp.asarray(IMAGES), t),
                               rtol=1e-6, atol=1e-4)
    assert np.asarray(layer.generator.state).tolist() == [5, 3 + 2 * 2 * 13]
    assert not np.allclose(layer(IMAGES), layer.transform_images(jnp.asarray(IMAGES), t))


@pytest.mark.parametrize("name", ["RandAugment", "AugMix"])
def test_inference_identity_jit_and_fit_without_recompiles(name):
    layer = getattr(kl, name)(seed=1)
    np.testing.assert_array_equal(layer(IMAGES, training=False), IMAGES)
    variables = layer.init(jax.random.PRNGKey(0), IMAGES)
    eager, _ = layer.apply(variables, IMAGES, training=True)
    jitted, _ = jax.jit(lambda v, x: layer.apply(v, x, training=True))(variables, IMAGES)
    np.testing.assert_allclose(jitted, eager, rtol=1e-5, atol=1e-2)
    x = IMAGES[:, :8, :8, :].repeat(4, axis=0)
    y = np.arange(12) % 2
    model = kerax.Sequential([kerax.Input((8, 8, 3)), getattr(kl, name)(),
                              kl.Flatten(), kl.Dense(2)])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, batch_size=4, verbose=0)
    with compile_cache.track() as stats:
        history = model.fit(x, y, epochs=2, batch_size=4, verbose=0)
    assert stats.compiles == 0
    assert np.isfinite(history.history["loss"]).all()


def test_errors():
    with pytest.raises(ValueError, match=r"RandAugment: `num_ops` must be a non-negative "
                                         r"integer. Received: num_ops=1.5"):
        kl.RandAugment(num_ops=1.5)
    with pytest.raises(ValueError, match=r"RandAugment: the `factor` argument should be a "
                                         r"number .*Received: factor=2"):
        kl.RandAugment(factor=2)
    with pytest.raises(ValueError, match=r"AugMix: `chain_depth` must be a positive integer"):
        kl.AugMix(chain_depth=0)
    with pytest.raises(ValueError, match=r"AugMix: unknown `interpolation` 'bicubic'"):
        kl.AugMix(interpolation="bicubic")
