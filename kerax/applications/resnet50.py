"""`keras.applications.resnet50`: ResNet50 and its preprocessing, as in `resnet`."""

from kerax.applications.resnet import ResNet50  # noqa: F401
from kerax.applications.resnet import decode_predictions  # noqa: F401
from kerax.applications.resnet import preprocess_input  # noqa: F401
