"""Keras' application architectures, with Keras 3's names, arguments and layer names, so
that weight files written by Keras line up (`kerax.applications.ResNet50`, ...). Each
family module also has `preprocess_input` and `decode_predictions`.

Example:
>>> import kerax
>>> base = kerax.applications.MobileNetV3Small(weights=None, include_top=False,
...                                            input_shape=(32, 32, 3))
>>> base.trainable = False
"""

from kerax import _exports
from kerax.applications import convnext  # noqa: F401
from kerax.applications import densenet  # noqa: F401
from kerax.applications import efficientnet  # noqa: F401
from kerax.applications import efficientnet_v2  # noqa: F401
from kerax.applications import imagenet_utils  # noqa: F401
from kerax.applications import inception_resnet_v2  # noqa: F401
from kerax.applications import inception_v3  # noqa: F401
from kerax.applications import mobilenet  # noqa: F401
from kerax.applications import mobilenet_v2  # noqa: F401
from kerax.applications import mobilenet_v3  # noqa: F401
from kerax.applications import nasnet  # noqa: F401
from kerax.applications import resnet  # noqa: F401
from kerax.applications import resnet50  # noqa: F401
from kerax.applications import resnet_v2  # noqa: F401
from kerax.applications import vgg16  # noqa: F401
from kerax.applications import vgg19  # noqa: F401
from kerax.applications import xception  # noqa: F401
from kerax.applications.convnext import (  # noqa: F401
    ConvNeXtBase, ConvNeXtLarge, ConvNeXtSmall, ConvNeXtTiny, ConvNeXtXLarge)
from kerax.applications.densenet import DenseNet121, DenseNet169, DenseNet201  # noqa: F401
from kerax.applications.efficientnet import (  # noqa: F401
    EfficientNetB0, EfficientNetB1, EfficientNetB2, EfficientNetB3, EfficientNetB4,
    EfficientNetB5, EfficientNetB6, EfficientNetB7)
from kerax.applications.efficientnet_v2 import (  # noqa: F401
    EfficientNetV2B0, EfficientNetV2B1, EfficientNetV2B2, EfficientNetV2B3, EfficientNetV2L,
    EfficientNetV2M, EfficientNetV2S)
from kerax.applications.inception_resnet_v2 import InceptionResNetV2  # noqa: F401
from kerax.applications.inception_v3 import InceptionV3  # noqa: F401
from kerax.applications.mobilenet import MobileNet  # noqa: F401
from kerax.applications.mobilenet_v2 import MobileNetV2  # noqa: F401
from kerax.applications.mobilenet_v3 import MobileNetV3Large, MobileNetV3Small  # noqa: F401
from kerax.applications.nasnet import NASNetLarge, NASNetMobile  # noqa: F401
from kerax.applications.resnet import ResNet50, ResNet101, ResNet152  # noqa: F401
from kerax.applications.resnet_v2 import ResNet50V2, ResNet101V2, ResNet152V2  # noqa: F401
from kerax.applications.vgg16 import VGG16  # noqa: F401
from kerax.applications.vgg19 import VGG19  # noqa: F401
from kerax.applications.xception import Xception  # noqa: F401

__all__ = _exports.public_names(globals())
