"""What every application constructor does around its architecture: check `weights`,
make or adopt the input, add the classifier or pooling head, build the `Model`, load the
weights; and each family module's `preprocess_input` and `decode_predictions`.

Example:
>>> import kerax
>>> from kerax.applications import _common
>>> inputs = kerax.Input((4, 4, 3), name="image")
>>> x = _common.head(inputs, True, None, 10, "softmax", None, ("avg_pool", None, None))
>>> model = _common.finish(inputs, None, x, "tiny", None)
>>> [layer.name for layer in model.layers]
['image', 'avg_pool', 'predictions']
"""

import os

from kerax import layers
from kerax.applications import imagenet_utils
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


def head(x, include_top, pooling, classes, classifier_activation, weights,
         names=(None, None, None), dropout_rate=0.0, **dense_kwargs):
    """Keras' usual ending. With `include_top`: global average pooling (named
    `names[0]`), a `top_dropout` Dropout if `dropout_rate > 0`, and the `predictions`
    Dense (`dense_kwargs` go to it); otherwise the `pooling` head, its layers named
    `names[1]` (avg) and `names[2]` (max)."""
    if not include_top:
        return pool(x, pooling, names[1], names[2])
    x = layers.GlobalAveragePooling2D(name=names[0])(x)
    if dropout_rate > 0:
        x = layers.Dropout(dropout_rate, name="top_dropout")(x)
    imagenet_utils.validate_activation(classifier_activation, weights)
    return layers.Dense(classes, activation=classifier_activation, name="predictions",
                        **dense_kwargs)(x)


def weight_file(origin, file_hash=None):
    """`(file_name, origin, file_hash)` of a published file named as its URL ends."""
    return origin.rpartition("/")[2], origin, file_hash


def finish(img_input, input_tensor, outputs, name, weights, imagenet_file=None):
    """Builds the `Model` and loads `weights`. For `"imagenet"`, `imagenet_file()` gives
    Keras' published file as `(file_name, origin, file_hash)`, or `None` where Keras
    publishes none (the model then keeps its initial weights, as in Keras)."""
    model = build_model(img_input, input_tensor, outputs, name)
    if weights != "imagenet":
        return load_weights(model, weights)
    published = imagenet_file()
    return model if published is None else load_weights(model, weights, *published)


def preprocessing(mode):
    """A family module's `(preprocess_input, decode_predictions)`: `preprocess_input` is
    `imagenet_utils.preprocess_input` in `mode` (`"tf"`, `"caffe"` or `"torch"`), or a
    pass-through where `mode` is None (the model preprocesses its inputs itself)."""
    if mode is None:
        def preprocess_input(x, data_format=None):
            """A pass-through: the model preprocesses its inputs itself (values in
            [0, 255])."""
            return x
    else:
        def preprocess_input(x, data_format=None):
            return imagenet_utils.preprocess_input(x, data_format=data_format, mode=mode)
        preprocess_input.__doc__ = (f"`imagenet_utils.preprocess_input` in `{mode}` mode "
                                    f"({_MODES[mode]}).")

    def decode_predictions(preds, top=5):
        """`imagenet_utils.decode_predictions`."""
        return imagenet_utils.decode_predictions(preds, top=top)
    return preprocess_input, decode_predictions


_MODES = {"tf": "scales to [-1, 1]", "caffe": "RGB -> BGR, minus ImageNet's means",
          "torch": "scales to [0, 1], then ImageNet's mean and standard deviation"}


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
