"""VGG19 (Simonyan & Zisserman, 2014), as Keras 3 builds it.

Example:
>>> import kerax
>>> model = kerax.applications.VGG19(weights=None, input_shape=(32, 32, 3),
...                                  include_top=False)
>>> model.output.shape
(None, 1, 1, 512)
"""

from kerax.applications import _common
from kerax.applications import vgg16

WEIGHTS_PATH = ("https://storage.googleapis.com/tensorflow/keras-applications/vgg19/"
                "vgg19_weights_tf_dim_ordering_tf_kernels.h5")
WEIGHTS_PATH_NO_TOP = ("https://storage.googleapis.com/tensorflow/keras-applications/vgg19/"
                       "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5")
WEIGHTS_HASHES = ("cbe5617147190e668d6c5d5026f83318", "253f8cb515780f3b799900260a226db6")


def VGG19(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
          pooling=None, classes=1000, classifier_activation="softmax", name="vgg19"):
    """Instantiates the VGG19 model (arguments as `vgg16.VGG16`)."""
    return vgg16.build_vgg((2, 2, 4, 4, 4), include_top, weights, input_tensor,
                           input_shape, pooling, classes, classifier_activation, name,
                           (WEIGHTS_PATH, WEIGHTS_PATH_NO_TOP), WEIGHTS_HASHES)


preprocess_input, decode_predictions = _common.preprocessing("caffe")
