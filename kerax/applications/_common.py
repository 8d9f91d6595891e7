"""What every application constructor does around its architecture: check `weights`,
make or adopt the input, add the pooling head, build the `Model`, load the weights."""

import os

from kerax import layers
from kerax.models import Model
from kerax.utils import file_utils
from kerax.utils import operation_utils

_LEGACY_H5 = (
    "{path} is a legacy Keras 2 HDF5 weights file (`.h5`, weights matched through "
    "`layer_names`/`weight_names` attributes), the format of Keras' published ImageNet "
    "weights; kerax cannot read that format yet. Load a Keras 3 `.weights.h5` file "
    "instead (in Keras 3: `model.save_weights('x.weights.h5')`), or build the model with "
    "`weights=None`."
)


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
    `kerax.utils.get_file` (checking `file_hash`); a path is loaded as it is."""
    if weights is None:
        return model
    if weights == "imagenet":
        weights = file_utils.get_file(file_name, origin, cache_subdir="models",
                                      file_hash=file_hash)
    path = os.fspath(weights)
    if path.endswith(".h5") and not path.endswith(".weights.h5"):
        try:
            model.load_weights(path)
        except ValueError as e:  # the format is refused, not a mismatch inside it
            if "not supported" not in str(e):
                raise
            raise ValueError(_LEGACY_H5.format(path=path)) from e
        return model
    model.load_weights(path)
    return model
