"""VGG16 (Simonyan & Zisserman, 2014), as Keras 3 builds it.

Example:
>>> import kerax
>>> model = kerax.applications.VGG16(weights=None, input_shape=(32, 32, 3),
...                                  include_top=False, pooling="max")
>>> model.output.shape
(None, 512)
"""

from kerax import backend
from kerax import layers
from kerax.applications import _common
from kerax.applications import imagenet_utils

WEIGHTS_PATH = ("https://storage.googleapis.com/tensorflow/keras-applications/vgg16/"
                "vgg16_weights_tf_dim_ordering_tf_kernels.h5")
WEIGHTS_PATH_NO_TOP = ("https://storage.googleapis.com/tensorflow/keras-applications/vgg16/"
                       "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5")
WEIGHTS_HASHES = ("64373286793e3c8b2b4e3219cbf3544b", "6d6bbae143d832006294945121d1f1fc")


def build_vgg(convs_per_block, include_top, weights, input_tensor, input_shape, pooling,
              classes, classifier_activation, name, origins, hashes):
    """A VGG network with `convs_per_block[i]` 3x3 convolutions in block `i + 1`."""
    _common.check_weights(weights, include_top, classes)
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, default_size=224, min_size=32, data_format=backend.image_data_format(),
        require_flatten=include_top, weights=weights)
    img_input = _common.image_input(input_tensor, input_shape)
    x = img_input
    for block, (filters, convs) in enumerate(zip((64, 128, 256, 512, 512), convs_per_block),
                                             start=1):
        for i in range(1, convs + 1):
            x = layers.Conv2D(filters, (3, 3), activation="relu", padding="same",
                              name=f"block{block}_conv{i}")(x)
        x = layers.MaxPooling2D((2, 2), strides=(2, 2), name=f"block{block}_pool")(x)
    if include_top:
        x = layers.Flatten(name="flatten")(x)
        x = layers.Dense(4096, activation="relu", name="fc1")(x)
        x = layers.Dense(4096, activation="relu", name="fc2")(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = _common.pool(x, pooling)
    return _common.finish(img_input, input_tensor, x, name, weights, lambda: _common.weight_file(
        origins[0 if include_top else 1], hashes[0 if include_top else 1]))


def VGG16(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
          pooling=None, classes=1000, classifier_activation="softmax", name="vgg16"):
    """Instantiates the VGG16 model (inputs preprocessed by `vgg16.preprocess_input`).
    Arguments as in Keras: `include_top`, `weights` (`None`, `"imagenet"` or a path),
    `input_tensor`, `input_shape`, `pooling`, `classes`, `classifier_activation`,
    `name`. Returns a `Model`."""
    return build_vgg((2, 2, 3, 3, 3), include_top, weights, input_tensor, input_shape,
                     pooling, classes, classifier_activation, name,
                     (WEIGHTS_PATH, WEIGHTS_PATH_NO_TOP), WEIGHTS_HASHES)


preprocess_input, decode_predictions = _common.preprocessing("caffe")
