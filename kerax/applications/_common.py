"""What every application constructor does around its architecture: check `weights`,
make or adopt the input, add the pooling head, build the `Model`, load the weights."""

import os

from kerax import layers
from kerax.models import Model
from kerax.utils import file_utils
from kerax.utils import operation_utils

def check_weights(weights, include_top, classes, quote="'"):
    """Keras' two checks on `weights` and `classes` (`quote` is how the family's message
    quotes `imagenet`)."""
    if not (weights in {"imagenet", None} or os.path.exists(weights)):
        raise ValueError(
            "The `weights` argument should be either `None` (random initialization), "
            f"{quote}imagenet{quote} (pre-training on ImageNet), or the path to the "
            f"weights file to be loaded.  Received: weights={weights}"
        )
    if weights == "imagenet" and include_top and classes != 1000:
        raise ValueError(
            f"If using `weights='imagenet'` with `include_top=True`, `classes` should be "
            f"1000.  Received classes={classes}"
        )


def image_input(input_tensor, input_shape):
    """The model's image input: a new `Input(input_shape)`, or `input_tensor` itself."""
    if input_tensor is None:
        return layers.Input(shape=input_shape)
    if not operation_utils.is_keras_tensor(input_tensor):
        raise ValueError(
            "`input_tensor` must be a symbolic tensor (the output of `kerax.Input()` or of "
            f"layers called on it). Received: input_tensor of type {type(input_tensor)}"
        )
    return input_tensor


def pool(x, pooling, avg_name=None, max_name=None):
    """The `pooling` head of a model built with `include_top=False`."""
    if pooling == "avg":
        return layers.GlobalAveragePooling2D(name=avg_name)(x)
    if pooling == "max":
        return layers.GlobalMaxPooling2D(name=max_name)(x)
    return x


def build_model(img_input, input_tensor, outputs, name):
    """The functional `Model` from the image input (or `input_tensor`'s sources)."""
    inputs = (img_input if input_tensor is None
              else operation_utils.get_source_inputs(input_tensor))
    return Model(inputs, outputs, name=name)


def load_weights(model, weights, file_name=None, origin=None, file_hash=None):
    """Loads `weights`: `"imagenet"` downloads `origin` into the `models` cache with
    `kerax.utils.get_file` (checking `file_hash`); a path is loaded as it is (Keras'
    published files are legacy Keras 2 `.h5` files, matched layer by layer)."""
    if weights is None:
        return model
    if weights == "imagenet":
        weights = file_utils.get_file(file_name, origin, cache_subdir="models",
                                      file_hash=file_hash)
    # A legacy Keras 2 `.h5` (Keras' published files), a `.weights.h5` or a `.keras`.
    model.load_weights(os.fspath(weights))
    return model
