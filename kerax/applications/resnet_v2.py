"""ResNet50V2, ResNet101V2 and ResNet152V2 (He et al., 2016: pre-activation blocks).

Example:
>>> import kerax
>>> model = kerax.applications.ResNet50V2(weights=None, input_shape=(32, 32, 3),
...                                       include_top=False)
>>> model.output.shape
(None, 1, 1, 2048)
"""

from kerax.applications import _common
from kerax.applications import resnet


def _v2(depths):
    def stack_fn(x):
        x = resnet.stack_residual_blocks_v2(x, 64, depths[0], name="conv2")
        x = resnet.stack_residual_blocks_v2(x, 128, depths[1], name="conv3")
        x = resnet.stack_residual_blocks_v2(x, 256, depths[2], name="conv4")
        return resnet.stack_residual_blocks_v2(x, 512, depths[3], stride1=1, name="conv5")
    return stack_fn


def ResNet50V2(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
               pooling=None, classes=1000, classifier_activation="softmax",
               name="resnet50v2"):
    """Instantiates the ResNet50V2 architecture (inputs preprocessed by
    `resnet_v2.preprocess_input`; arguments as `resnet.ResNet50`)."""
    return resnet.ResNet(_v2((3, 4, 6, 3)), True, True, include_top, weights, input_tensor,
                         input_shape, pooling, classes, classifier_activation, name,
                         "resnet50v2")


def ResNet101V2(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
                pooling=None, classes=1000, classifier_activation="softmax",
                name="resnet101v2"):
    """Instantiates the ResNet101V2 architecture (arguments as `resnet.ResNet50`)."""
    return resnet.ResNet(_v2((3, 4, 23, 3)), True, True, include_top, weights,
                         input_tensor, input_shape, pooling, classes,
                         classifier_activation, name, "resnet101v2")


def ResNet152V2(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
                pooling=None, classes=1000, classifier_activation="softmax",
                name="resnet152v2"):
    """Instantiates the ResNet152V2 architecture (arguments as `resnet.ResNet50`)."""
    return resnet.ResNet(_v2((3, 8, 36, 3)), True, True, include_top, weights,
                         input_tensor, input_shape, pooling, classes,
                         classifier_activation, name, "resnet152v2")


preprocess_input, decode_predictions = _common.preprocessing("tf")
