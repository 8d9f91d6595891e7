"""Each application architecture against Keras 3's: the same layer names, weight shapes,
parameter count, and predictions once Keras' weights are moved over (by `set_weights`
and through a Keras-written `.weights.h5` file passed as `weights=path`).

The fast tier (tiny widths and inputs) runs by default; the rest is marked slow, the
largest variants (ConvNeXtLarge/XLarge, EfficientNetV2M/L: 0.05 to 0.35 billion weights)
included. With Keras' random kernels EfficientNetV2M/L are chaotic (Keras' own output moves
by half its size when the input changes by one part in a million), so they are compared
with their kernels halved, where a change of one part in a million moves the output by
2e-7 of its size.
"""

import re

import numpy as np
import pytest

import kerax

FAST = [
    ("MobileNetV3Small", (32, 32, 3), {"alpha": 0.75}),
    ("MobileNetV2", (32, 32, 3), {"alpha": 0.35}),
    ("ConvNeXtTiny", (32, 32, 3), {}),
]
# Building EfficientNetV2B0 and NASNetMobile on both libraries costs ~15 s each on 2 cores:
# slow tier (tests/applications/test_variants.py checks their constructors cheaply).
SLOW = [
    ("EfficientNetV2B0", (32, 32, 3), {}),
    ("NASNetMobile", (32, 32, 3), {}),
    ("MobileNetV3Small", (48, 40, 3), {"minimalistic": True, "include_top": False,
                                       "pooling": "max"}),
    ("MobileNetV2", (96, 96, 3), {"alpha": 1.3, "include_top": False, "pooling": "avg"}),
    ("MobileNetV3Large", (64, 64, 3), {}),
    ("MobileNetV3Large", (32, 32, 3), {"minimalistic": True, "alpha": 1.25,
                                       "include_preprocessing": False}),
    ("EfficientNetB0", (32, 32, 3), {}),
    ("EfficientNetB1", (33, 35, 3), {"include_top": False, "pooling": "avg"}),
    ("EfficientNetB2", (32, 32, 3), {"include_top": False}),
    ("EfficientNetB3", (32, 32, 3), {"include_top": False}),
    ("EfficientNetB4", (32, 32, 3), {"include_top": False}),
    ("EfficientNetB5", (32, 32, 3), {"include_top": False}),
    ("EfficientNetB6", (32, 32, 3), {"include_top": False}),
    ("EfficientNetB7", (32, 32, 3), {"include_top": False}),
    ("ResNet50", (32, 32, 3), {}),
    ("ResNet101", (32, 32, 3), {"include_top": False, "pooling": "max"}),
    ("ResNet152", (32, 32, 3), {"include_top": False}),
    ("ResNet50V2", (32, 32, 3), {}),
    ("ResNet101V2", (32, 32, 3), {"include_top": False, "pooling": "avg"}),
    ("ResNet152V2", (32, 32, 3), {"include_top": False}),
    ("VGG16", (32, 32, 3), {"classes": 7}),
    ("VGG19", (32, 32, 3), {"include_top": False, "pooling": "avg"}),
    ("MobileNet", (32, 32, 3), {"alpha": 0.25}),
    ("MobileNet", (128, 128, 3), {"depth_multiplier": 2, "include_top": False,
                                  "pooling": "avg", "alpha": 0.5}),
    ("DenseNet121", (32, 32, 3), {}),
    ("DenseNet169", (32, 32, 3), {"include_top": False, "pooling": "max"}),
    ("DenseNet201", (32, 32, 3), {"include_top": False}),
    ("Xception", (71, 75, 3), {}),
    ("Xception", (80, 80, 3), {"include_top": False, "pooling": "avg"}),
    ("InceptionV3", (75, 75, 3), {}),
    ("InceptionV3", (80, 96, 3), {"include_top": False, "pooling": "max"}),
    ("InceptionResNetV2", (75, 75, 3), {}),
    ("ConvNeXtTiny", (40, 36, 3), {"include_top": False, "pooling": "avg",
                                   "include_preprocessing": False}),
    ("ConvNeXtSmall", (32, 32, 3), {"include_top": False}),
    ("ConvNeXtBase", (32, 32, 3), {"include_top": False, "pooling": "max"}),
    ("EfficientNetV2B0", (36, 40, 3), {"include_top": False, "pooling": "avg",
                                       "include_preprocessing": False}),
    ("EfficientNetV2B1", (32, 32, 3), {"include_top": False, "pooling": "max"}),
    ("EfficientNetV2B2", (32, 32, 3), {"include_top": False}),
    ("EfficientNetV2B3", (32, 32, 3), {"classes": 5}),
    ("EfficientNetV2S", (32, 32, 3), {"include_top": False, "pooling": "max"}),
    ("NASNetMobile", (48, 40, 3), {"include_top": False, "pooling": "max"}),
    ("NASNetLarge", (32, 32, 3), {"include_top": False, "pooling": "avg"}),
    ("ConvNeXtLarge", (32, 32, 3), {"include_top": False, "pooling": "avg"}),
    ("ConvNeXtXLarge", (32, 32, 3), {"include_top": False, "pooling": "avg"}),
    ("EfficientNetV2M", (32, 32, 3), {"include_top": False, "pooling": "avg",
                                      "include_preprocessing": False}, 0.5),
    ("EfficientNetV2L", (32, 32, 3), {"include_top": False, "pooling": "avg",
                                      "include_preprocessing": False}, 0.5),
]


def _weights(model, kernel_scale=1.0):
    """Keras-ordered weights, 1-D ones (biases, BN statistics) made non-trivial."""
    rng = np.random.default_rng(1)
    return [np.abs(w + 0.2 * rng.standard_normal(w.shape).astype(w.dtype))
            if w.ndim == 1 else w * kernel_scale for w in model.get_weights()]


def _auto_named(keras, layer):
    """Whether Keras named `layer` from its class and a global counter (`re_lu_17`)."""
    snake = keras.src.utils.naming.to_snake_case(type(layer).__name__)
    return re.fullmatch(rf"{snake}(_\d+)?", layer.name) is not None


def _check(keras, tmp_path, name, shape, kwargs, kernel_scale=1.0):
    kwargs = dict(kwargs)
    if kwargs.get("include_top", True):
        kwargs.setdefault("classifier_activation", None)  # compare logits, not softmax
    keras.utils.set_random_seed(0)
    ref = getattr(keras.applications, name)(weights=None, input_shape=shape, **kwargs)
    ref.set_weights(_weights(ref, kernel_scale))
    model = getattr(kerax.applications, name)(weights=None, input_shape=shape, **kwargs)

    assert model.name == ref.name
    assert model.count_params() == ref.count_params()
    # Layers with weights, in order; names compared where Keras did not count them.
    assert ([(type(l).__name__, [w.shape for w in l.weights]) for l in model.layers
             if l.weights] == [(type(l).__name__, [tuple(w.shape) for w in l.weights])
                               for l in ref.layers if l.weights])
    assert ([l.name for l in model.layers if l.weights and not _auto_named(keras, l)]
            == [l.name for l in ref.layers if l.weights and not _auto_named(keras, l)])
    named = {l.name for l in ref.layers if not _auto_named(keras, l)}
    assert named <= {l.name for l in model.layers}

    # Without its preprocessing layers a model gets inputs in [0, 1]: fed [0, 255],
    # EfficientNetV2B0 is so ill-conditioned that Keras' own output moves by 0.3 (of 800)
    # when the input changes by one part in a million.
    high = 1.0 if kwargs.get("include_preprocessing") is False else 255.0
    x = np.random.default_rng(0).uniform(0, high, (2,) + shape).astype("float32")
    expected = np.asarray(ref.predict(x, verbose=0))
    model.set_weights(ref.get_weights())
    np.testing.assert_allclose(np.asarray(model.predict(x, verbose=0)), expected,
                               rtol=1e-4, atol=1e-4 * np.abs(expected).max())

    path = str(tmp_path / "ref.weights.h5")
    ref.save_weights(path)
    loaded = getattr(kerax.applications, name)(weights=path, input_shape=shape, **kwargs)
    np.testing.assert_allclose(np.asarray(loaded.predict(x, verbose=0)), expected,
                               rtol=1e-4, atol=1e-4 * np.abs(expected).max())


@pytest.mark.parametrize("name,shape,kwargs", FAST, ids=lambda v: str(v))
def test_fast_tier_matches_keras(keras, tmp_path, name, shape, kwargs):
    _check(keras, tmp_path, name, shape, kwargs)


@pytest.mark.slow
@pytest.mark.parametrize("case", SLOW, ids=lambda v: str(v[:3]))
def test_matches_keras(keras, tmp_path, case):
    _check(keras, tmp_path, *case)
