"""ConvNeXt Tiny, Small, Base, Large and XLarge (Liu et al., 2022), as Keras 3 builds them.

Preprocessing is part of the model (a `Normalization` layer with ImageNet's statistics,
inputs in [0, 255], unless `include_preprocessing=False`), so `preprocess_input` passes
its input through.

Example:
>>> import kerax
>>> model = kerax.applications.ConvNeXtTiny(weights=None, input_shape=(32, 32, 3),
...                                         classes=10)
>>> model.name, model.output.shape
('convnext_tiny', (None, 10))
"""

import jax
import jax.numpy as jnp
import numpy as np

from kerax import backend
from kerax import initializers
from kerax import layers
from kerax.applications import _common
from kerax.applications import imagenet_utils
from kerax.models import Sequential

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/convnext/"
WEIGHTS_HASHES = {
    "convnext_tiny": (
        "8ae6e78ce2933352b1ef4008e6dd2f17bc40771563877d156bc6426c7cf503ff",
        "d547c096cabd03329d7be5562c5e14798aa39ed24b474157cef5e85ab9e49ef1"),
    "convnext_small": (
        "ce1277d8f1ee5a0ef0e171469089c18f5233860ceaf9b168049cb9263fd7483c",
        "6fc8009faa2f00c1c1dfce59feea9b0745eb260a7dd11bee65c8e20843da6eab"),
    "convnext_base": (
        "52cbb006d3dadd03f6e095a8ca1aca47aecdd75acb4bc74bce1f5c695d0086e6",
        "40a20c5548a5e9202f69735ecc06c990e6b7c9d2de39f0361e27baeb24cb7c45"),
    "convnext_large": (
        "070c5ed9ed289581e477741d3b34beffa920db8cf590899d6d2c67fba2a198a6",
        "96f02b6f0753d4f543261bc9d09bed650f24dd6bc02ddde3066135b63d23a1cd"),
    "convnext_xlarge": (
        "c1f5ccab661354fc3a79a10fa99af82f0fbf10ec65cb894a3ae0815f17a889ee",
        "de3f8a54174130e0cecdc71583354753d557fcf1f4487331558e2a16ba0cfe05"),
}
MODEL_CONFIGS = {
    "tiny": {"depths": [3, 3, 9, 3], "projection_dims": [96, 192, 384, 768],
             "default_size": 224},
    "small": {"depths": [3, 3, 27, 3], "projection_dims": [96, 192, 384, 768],
              "default_size": 224},
    "base": {"depths": [3, 3, 27, 3], "projection_dims": [128, 256, 512, 1024],
             "default_size": 224},
    "large": {"depths": [3, 3, 27, 3], "projection_dims": [192, 384, 768, 1536],
              "default_size": 224},
    "xlarge": {"depths": [3, 3, 27, 3], "projection_dims": [256, 512, 1024, 2048],
               "default_size": 224},
}


class StochasticDepth(layers.Layer):
    """Drops the residual path of whole samples with probability `drop_path_rate` in
    training (scaling kept ones by `1 / (1 - drop_path_rate)`); identity at inference.

    Example:
    >>> import jax, numpy as np
    >>> layer = StochasticDepth(0.5)
    >>> v = layer.init(jax.random.PRNGKey(0), np.ones((4, 2)))
    >>> y, _ = layer.apply(v, np.ones((4, 2)), training=True, rng=jax.random.PRNGKey(1))
    >>> sorted(set(np.asarray(y).ravel().tolist())) in ([0.0, 2.0], [0.0], [2.0])
    True
    """

    def __init__(self, drop_path_rate, **kwargs):
        super().__init__(**kwargs)
        self.drop_path_rate = drop_path_rate

    def forward(self, params, state, inputs, training=False, rng=None, **kwargs):
        if not training:
            return inputs, state
        if rng is None:
            raise ValueError(
                f"StochasticDepth '{self.name}' needs a random key in training mode: call "
                "`apply(variables, x, training=True, rng=jax.random.PRNGKey(0))`.")
        keep_prob = 1 - self.drop_path_rate
        shape = (inputs.shape[0],) + (1,) * (inputs.ndim - 1)
        mask = jnp.floor(keep_prob + jax.random.uniform(rng, shape, inputs.dtype))
        return (inputs / keep_prob) * mask, state

    def get_config(self):
        return {**super().get_config(), "drop_path_rate": self.drop_path_rate}


class LayerScale(layers.Layer):
    """Multiplies its input by a learned per-channel `gamma` (initially `init_values`).

    Example:
    >>> import numpy as np
    >>> LayerScale(0.5, 3)(np.ones((1, 3)))
    Array([[0.5, 0.5, 0.5]], dtype=float32)
    """

    def __init__(self, init_values, projection_dim, **kwargs):
        super().__init__(**kwargs)
        self.init_values = init_values
        self.projection_dim = projection_dim

    def build_variables(self, key, inputs):
        gamma = initializers.Constant(self.init_values)((self.projection_dim,), self.dtype,
                                                         key=key)
        return {"gamma": gamma}, {}

    def forward(self, params, state, inputs, training=False, rng=None, **kwargs):
        return inputs * params["gamma"], state

    @property
    def gamma(self):
        return self._built_view("params", "gamma")

    def get_config(self):
        return {**super().get_config(), "init_values": self.init_values,
                "projection_dim": self.projection_dim}


def ConvNeXtBlock(projection_dim, drop_path_rate=0.0, layer_scale_init_value=1e-6,
                  name=None):
    """A ConvNeXt block (the pointwise convolutions are `Dense` layers, as in Keras)."""
    def apply(inputs):
        x = layers.Conv2D(projection_dim, kernel_size=7, padding="same",
                          groups=projection_dim, name=f"{name}_depthwise_conv")(inputs)
        x = layers.LayerNormalization(epsilon=1e-6, name=f"{name}_layernorm")(x)
        x = layers.Dense(4 * projection_dim, name=f"{name}_pointwise_conv_1")(x)
        x = layers.Activation("gelu", name=f"{name}_gelu")(x)
        x = layers.Dense(projection_dim, name=f"{name}_pointwise_conv_2")(x)
        if layer_scale_init_value is not None:
            x = LayerScale(layer_scale_init_value, projection_dim,
                           name=f"{name}_layer_scale")(x)
        if drop_path_rate:
            layer = StochasticDepth(drop_path_rate, name=f"{name}_stochastic_depth")
        else:
            layer = layers.Activation("linear", name=f"{name}_identity")
        return inputs + layer(x)
    return apply


def ConvNeXt(depths, projection_dims, drop_path_rate=0.0, layer_scale_init_value=1e-6,
             default_size=224, name="convnext", include_preprocessing=True,
             include_top=True, weights=None, input_tensor=None, input_shape=None,
             pooling=None, classes=1000, classifier_activation="softmax",
             weights_name=None):
    """A ConvNeXt of `depths` blocks per stage with `projection_dims` channels
    (channels_last only). Arguments as in Keras."""
    if backend.image_data_format() == "channels_first":
        raise ValueError(
            "ConvNeXt does not support the `channels_first` image data format. Switch to "
            "`channels_last` with `kerax.config.set_image_data_format('channels_last')`.")
    _common.check_weights(weights, include_top, classes)
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, default_size=default_size, min_size=32,
        data_format=backend.image_data_format(), require_flatten=include_top,
        weights=weights)
    x = img_input = _common.image_input(input_tensor, input_shape)
    if weights == "imagenet":
        _check_imagenet_config(depths, projection_dims, name, weights_name)

    if include_preprocessing and input_shape[2] == 3:
        x = layers.Normalization(
            mean=[0.485 * 255, 0.456 * 255, 0.406 * 255],
            variance=[(0.229 * 255) ** 2, (0.224 * 255) ** 2, (0.225 * 255) ** 2],
            name=f"{name}_prestem_normalization")(x)
    stem = Sequential([
        layers.Conv2D(projection_dims[0], kernel_size=4, strides=4, name=f"{name}_stem_conv"),
        layers.LayerNormalization(epsilon=1e-6, name=f"{name}_stem_layernorm"),
    ], name=f"{name}_stem")
    downsample_layers = [stem] + [Sequential([
        layers.LayerNormalization(epsilon=1e-6, name=f"{name}_downsampling_layernorm_{i}"),
        layers.Conv2D(projection_dims[i + 1], kernel_size=2, strides=2,
                      name=f"{name}_downsampling_conv_{i}"),
    ], name=f"{name}_downsampling_block_{i}") for i in range(3)]

    depth_drop_rates = [float(r) for r in np.linspace(0.0, drop_path_rate, sum(depths))]
    cur = 0
    for i in range(4):
        x = downsample_layers[i](x)
        for j in range(depths[i]):
            x = ConvNeXtBlock(projection_dims[i], depth_drop_rates[cur + j],
                              layer_scale_init_value, name=f"{name}_stage_{i}_block_{j}")(x)
        cur += depths[i]

    if include_top:
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = layers.GlobalAveragePooling2D(name=f"{name}_head_gap")(x)
        x = layers.LayerNormalization(epsilon=1e-6, name=f"{name}_head_layernorm")(x)
        x = layers.Dense(classes, activation=classifier_activation,
                         name=f"{name}_head_dense")(x)
    else:
        x = _common.pool(x, pooling)
        x = layers.LayerNormalization(epsilon=1e-6)(x)
    return _common.finish(img_input, input_tensor, x, name, weights, lambda: _common.weight_file(
        BASE_WEIGHTS_PATH + name + (".h5" if include_top else "_notop.h5"),
        WEIGHTS_HASHES[weights_name][0 if include_top else 1]))


def _check_imagenet_config(depths, projection_dims, name, weights_name):
    """Keras' checks that an ImageNet-weighted ConvNeXt is the published variant."""
    expected = MODEL_CONFIGS[weights_name.split("convnext_")[-1]]
    if depths != expected["depths"] or projection_dims != expected["projection_dims"]:
        raise ValueError(
            f"Architecture configuration does not match {weights_name} variant. When using "
            "pre-trained weights, the model architecture must match the pre-trained "
            f"configuration exactly. Expected depths: {expected['depths']}, got: {depths}. "
            f"Expected projection_dims: {expected['projection_dims']}, got: "
            f"{projection_dims}.")
    if weights_name not in name:
        raise ValueError(
            f'Model name "{name}" does not match weights variant "{weights_name}". When '
            "using imagenet weights, model name must contain the weights variant (e.g., "
            f'"convnext_{weights_name.split("convnext_")[-1]}").')


def _constructor(variant, title):
    config = MODEL_CONFIGS[variant]

    def constructor(include_top=True, include_preprocessing=True, weights="imagenet",
                    input_tensor=None, input_shape=None, pooling=None, classes=1000,
                    classifier_activation="softmax", name=f"convnext_{variant}"):
        return ConvNeXt(config["depths"], config["projection_dims"], drop_path_rate=0.0,
                        layer_scale_init_value=1e-6, default_size=config["default_size"],
                        name=name, include_preprocessing=include_preprocessing,
                        include_top=include_top, weights=weights, input_tensor=input_tensor,
                        input_shape=input_shape, pooling=pooling, classes=classes,
                        classifier_activation=classifier_activation,
                        weights_name=f"convnext_{variant}")
    constructor.__name__ = constructor.__qualname__ = f"ConvNeXt{title}"
    constructor.__doc__ = (
        f"Instantiates the ConvNeXt{title} architecture (default input 224x224; "
        "inputs in [0, 255]).\n\n    Args as in Keras: `include_top`, "
        "`include_preprocessing`, `weights` (`None`, `\"imagenet\"` or a path), "
        "`input_tensor`, `input_shape`, `pooling`, `classes`, `classifier_activation`, "
        "`name`. Returns a `Model`.\n    ")
    return constructor


ConvNeXtTiny = _constructor("tiny", "Tiny")
ConvNeXtSmall = _constructor("small", "Small")
ConvNeXtBase = _constructor("base", "Base")
ConvNeXtLarge = _constructor("large", "Large")
ConvNeXtXLarge = _constructor("xlarge", "XLarge")


preprocess_input, decode_predictions = _common.preprocessing(None)
