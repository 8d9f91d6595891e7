"""DenseNet121, DenseNet169 and DenseNet201 (Huang et al., 2017), as Keras 3 builds them.

Example:
>>> import kerax
>>> model = kerax.applications.DenseNet121(weights=None, input_shape=(32, 32, 3),
...                                        include_top=False, pooling="avg")
>>> model.output.shape
(None, 1024)
"""

from kerax import backend
from kerax import layers
from kerax.applications import _common
from kerax.applications import imagenet_utils

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/densenet/"
WEIGHTS_HASHES = {  # (with top, without top), by the blocks' sizes
    (6, 12, 24, 16): ("densenet121", "9d60b8095a5708f2dcce2bca79d332c7",
                      "30ee3e1110167f948a6b9946edeeb738"),
    (6, 12, 32, 32): ("densenet169", "d699b8f76981ab1b30698df4c175e90b",
                      "b8c4d4c20dd625c148057b9ff1c1176b"),
    (6, 12, 48, 32): ("densenet201", "1ceb130c1ea1b78c3bf6114dbdfd8807",
                      "c13680b51ded0fb44dff2d8f86ac8bb1"),
}


def _bn(name):
    return layers.BatchNormalization(axis=3, epsilon=1.001e-5, name=name)


def dense_block(x, blocks, name):
    """`blocks` convolution blocks, each concatenating 32 new channels."""
    for i in range(blocks):
        x = conv_block(x, 32, name=f"{name}_block{i + 1}")
    return x


def transition_block(x, reduction, name):
    """BN-ReLU-1x1 convolution to `reduction` of the channels, then 2x2 average pooling."""
    x = _bn(f"{name}_bn")(x)
    x = layers.Activation("relu", name=f"{name}_relu")(x)
    x = layers.Conv2D(int(x.shape[3] * reduction), 1, use_bias=False, name=f"{name}_conv")(x)
    return layers.AveragePooling2D(2, strides=2, name=f"{name}_pool")(x)


def conv_block(x, growth_rate, name):
    """BN-ReLU-1x1 conv, BN-ReLU-3x3 conv; the result concatenated to the input."""
    x1 = _bn(f"{name}_0_bn")(x)
    x1 = layers.Activation("relu", name=f"{name}_0_relu")(x1)
    x1 = layers.Conv2D(4 * growth_rate, 1, use_bias=False, name=f"{name}_1_conv")(x1)
    x1 = _bn(f"{name}_1_bn")(x1)
    x1 = layers.Activation("relu", name=f"{name}_1_relu")(x1)
    x1 = layers.Conv2D(growth_rate, 3, padding="same", use_bias=False,
                       name=f"{name}_2_conv")(x1)
    return layers.Concatenate(axis=3, name=f"{name}_concat")([x, x1])


def DenseNet(blocks, include_top=True, weights="imagenet", input_tensor=None,
             input_shape=None, pooling=None, classes=1000, classifier_activation="softmax",
             name="densenet"):
    """A DenseNet with `blocks[i]` convolution blocks in dense block `i + 1`."""
    if backend.image_data_format() == "channels_first":
        raise ValueError(
            "DenseNet does not support the `channels_first` image data format. Switch to "
            "`channels_last` with `kerax.config.set_image_data_format('channels_last')`.")
    _common.check_weights(weights, include_top, classes)
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, default_size=224, min_size=32, data_format=backend.image_data_format(),
        require_flatten=include_top, weights=weights)
    img_input = _common.image_input(input_tensor, input_shape)
    x = layers.ZeroPadding2D(padding=((3, 3), (3, 3)))(img_input)
    x = layers.Conv2D(64, 7, strides=2, use_bias=False, name="conv1_conv")(x)
    x = _bn("conv1_bn")(x)
    x = layers.Activation("relu", name="conv1_relu")(x)
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)))(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1")(x)
    for i, size in enumerate(blocks):
        x = dense_block(x, size, name=f"conv{i + 2}")
        if i < 3:
            x = transition_block(x, 0.5, name=f"pool{i + 2}")
    x = _bn("bn")(x)
    x = layers.Activation("relu", name="relu")(x)
    x = _common.head(x, include_top, pooling, classes, classifier_activation, weights,
                     ("avg_pool", "avg_pool", "max_pool"))
    return _common.finish(img_input, input_tensor, x, name, weights,
                          lambda: _imagenet_file(blocks, include_top))


def _imagenet_file(blocks, include_top):
    if tuple(blocks) not in WEIGHTS_HASHES:
        raise ValueError("weights_path undefined")
    stem, top_hash, notop_hash = WEIGHTS_HASHES[tuple(blocks)]
    file_name = f"{stem}_weights_tf_dim_ordering_tf_kernels{'' if include_top else '_notop'}.h5"
    return file_name, BASE_WEIGHTS_PATH + file_name, top_hash if include_top else notop_hash


def DenseNet121(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
                pooling=None, classes=1000, classifier_activation="softmax",
                name="densenet121"):
    """Instantiates the DenseNet121 architecture (inputs preprocessed by
    `densenet.preprocess_input`). Arguments as in Keras: `include_top`, `weights`,
    `input_tensor`, `input_shape`, `pooling`, `classes`, `classifier_activation`,
    `name`. Returns a `Model`."""
    return DenseNet([6, 12, 24, 16], include_top, weights, input_tensor, input_shape,
                    pooling, classes, classifier_activation, name=name)


def DenseNet169(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
                pooling=None, classes=1000, classifier_activation="softmax",
                name="densenet169"):
    """Instantiates the DenseNet169 architecture (arguments as `DenseNet121`)."""
    return DenseNet([6, 12, 32, 32], include_top, weights, input_tensor, input_shape,
                    pooling, classes, classifier_activation, name=name)


def DenseNet201(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
                pooling=None, classes=1000, classifier_activation="softmax",
                name="densenet201"):
    """Instantiates the DenseNet201 architecture (arguments as `DenseNet121`)."""
    return DenseNet([6, 12, 48, 32], include_top, weights, input_tensor, input_shape,
                    pooling, classes, classifier_activation, name=name)


preprocess_input, decode_predictions = _common.preprocessing("torch")
