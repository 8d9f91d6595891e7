"""Every variant constructor of the newer families passes its family builder what Keras'
passes (checked by recording the builder's arguments in both libraries, nothing built),
so parity of a builder on the smaller variants (test_parity.py) covers the largest ones."""

import inspect

import pytest

import kerax

FAMILIES = {
    "convnext": ("ConvNeXt", ["ConvNeXtTiny", "ConvNeXtSmall", "ConvNeXtBase",
                              "ConvNeXtLarge", "ConvNeXtXLarge"]),
    "efficientnet_v2": ("EfficientNetV2", [
        "EfficientNetV2B0", "EfficientNetV2B1", "EfficientNetV2B2", "EfficientNetV2B3",
        "EfficientNetV2S", "EfficientNetV2M", "EfficientNetV2L"]),
    "nasnet": ("NASNet", ["NASNetMobile", "NASNetLarge"]),
}
CASES = [(module, builder, name) for module, (builder, names) in FAMILIES.items()
         for name in names]


def _recorded(module, builder, constructor, **kwargs):
    """The builder's arguments (defaults filled in) when `constructor(**kwargs)` runs."""
    original = getattr(module, builder)
    calls = []

    def record(*args, **kw):
        bound = inspect.signature(original).bind(*args, **kw)
        bound.apply_defaults()
        calls.append(dict(bound.arguments))

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(module, builder, record)
        getattr(module, constructor)(**kwargs)
    assert len(calls) == 1
    return calls[0]


@pytest.mark.parametrize("module,builder,name", CASES)
def test_constructor_matches_keras(keras, module, builder, name):
    ours = getattr(kerax.applications, module)
    theirs = getattr(keras.src.applications, module)
    assert (inspect.signature(getattr(ours, name)).parameters.keys()
            == inspect.signature(getattr(theirs, name)).parameters.keys())
    assert ({k: p.default for k, p in inspect.signature(getattr(ours, name)).parameters.items()}
            == {k: p.default for k, p in
                inspect.signature(getattr(theirs, name)).parameters.items()})
    for kwargs in ({}, {"include_top": False, "pooling": "avg", "weights": None,
                        "input_shape": (64, 64, 3)}):
        assert (_recorded(ours, builder, name, **kwargs)
                == _recorded(theirs, builder, name, **kwargs))


def test_family_tables_match_keras(keras):
    src = keras.src.applications
    assert kerax.applications.convnext.MODEL_CONFIGS == src.convnext.MODEL_CONFIGS
    assert kerax.applications.convnext.WEIGHTS_HASHES == src.convnext.WEIGHTS_HASHES
    assert (kerax.applications.efficientnet_v2.DEFAULT_BLOCKS_ARGS
            == src.efficientnet_v2.DEFAULT_BLOCKS_ARGS)
    assert (kerax.applications.efficientnet_v2.WEIGHTS_HASHES
            == src.efficientnet_v2.WEIGHTS_HASHES)


def test_convnext_with_stochastic_depth_matches_keras(keras):
    # A tiny ConvNeXt with drop_path_rate > 0: StochasticDepth layers where the published
    # variants have identities (Keras' names, inference-mode identity, same predictions).
    import numpy as np

    kwargs = {"depths": [1, 1, 2, 1], "projection_dims": [8, 8, 16, 16],
              "drop_path_rate": 0.3, "name": "convnext_mini", "weights": None,
              "input_shape": (32, 32, 3), "classes": 3, "classifier_activation": None}
    keras.utils.set_random_seed(0)
    ref = keras.src.applications.convnext.ConvNeXt(**kwargs)
    model = kerax.applications.convnext.ConvNeXt(**kwargs)
    names = [layer.name for layer in model.layers]
    assert [layer.name for layer in ref.layers if "stochastic" in layer.name] == [
        n for n in names if "stochastic" in n] == [  # the first block's rate is 0
        "convnext_mini_stage_1_block_0_stochastic_depth",
        "convnext_mini_stage_2_block_0_stochastic_depth",
        "convnext_mini_stage_2_block_1_stochastic_depth",
        "convnext_mini_stage_3_block_0_stochastic_depth"]
    assert [layer.drop_path_rate for layer in model.layers if "stochastic" in layer.name] \
        == [layer.drop_path_rate for layer in ref.layers if "stochastic" in layer.name]
    model.set_weights(ref.get_weights())
    x = np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    np.testing.assert_allclose(np.asarray(model.predict(x, verbose=0)),
                               np.asarray(ref.predict(x, verbose=0)), rtol=1e-4, atol=1e-4)


def test_stochastic_depth_drops_whole_samples_in_training():
    import jax
    import numpy as np

    layer = kerax.applications.convnext.StochasticDepth(0.5)
    x = np.ones((64, 3, 2), "float32")
    variables = layer.init(jax.random.PRNGKey(0), x)
    y, _ = layer.apply(variables, x, training=True, rng=jax.random.PRNGKey(1))
    per_sample = np.asarray(y).reshape(64, -1)
    assert set(np.unique(per_sample)) == {0.0, 2.0}  # kept ones scaled by 1 / keep_prob
    assert (per_sample == per_sample[:, :1]).all()  # one decision per sample
    np.testing.assert_array_equal(layer.apply(variables, x)[0], x)  # identity at inference
    with pytest.raises(ValueError, match="StochasticDepth '.*' needs a random key"):
        layer.apply(variables, x, training=True)
