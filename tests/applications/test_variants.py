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
