"""ImageNet helpers shared by the application families: `preprocess_input` in Keras'
`caffe` / `tf` / `torch` modes, `decode_predictions`, and the argument checks every
constructor makes (`obtain_input_shape`, `validate_activation`, `correct_pad`)."""

import json
import warnings

import numpy as np

from kerax import activations
from kerax import backend
from kerax import ops
from kerax.utils import file_utils

CLASS_INDEX = None
CLASS_INDEX_PATH = (
    "https://storage.googleapis.com/download.tensorflow.org/data/imagenet_class_index.json"
)
CLASS_INDEX_HASH = "c2c37ea517e94d9795004a39431a14cb"

_CAFFE_MEAN = [103.939, 116.779, 123.68]  # BGR
_TORCH_MEAN = [0.485, 0.456, 0.406]
_TORCH_STD = [0.229, 0.224, 0.225]


def preprocess_input(x, data_format=None, mode="caffe"):
    """Preprocesses a batch of images (values in [0, 255]) as an ImageNet model expects.

    Args:
        x: a float NumPy array or tensor, 3D or 4D, with 3 color channels. A NumPy
            float array is modified in place, as in Keras.
        data_format: `"channels_last"`, `"channels_first"`, or None for
            `kerax.backend.image_data_format()`.
        mode: `"caffe"` (RGB -> BGR, then subtract the ImageNet channel means),
            `"tf"` (scale to [-1, 1]) or `"torch"` (scale to [0, 1], then normalize
            each channel by the ImageNet mean and std).

    Returns:
        The preprocessed array (float32 for integer input).

    Raises:
        ValueError: for an unknown `mode` or `data_format`.

    Example:
    >>> import numpy as np
    >>> preprocess_input(np.array([[0.0, 127.5, 255.0]]), mode="tf")
    array([[-1.,  0.,  1.]])
    """
    if mode not in {"caffe", "tf", "torch"}:
        raise ValueError(
            f"Expected mode to be one of `caffe`, `tf` or `torch`. Received: mode={mode}"
        )
    if data_format is None:
        data_format = backend.image_data_format()
    elif data_format not in {"channels_first", "channels_last"}:
        raise ValueError(
            "Expected data_format to be one of `channels_first` or "
            f"`channels_last`. Received: data_format={data_format}"
        )
    if isinstance(x, np.ndarray):
        return _preprocess_numpy(x, data_format, mode)
    return _preprocess_tensor(x, data_format, mode)


def _channel_shape(ndim, data_format):
    """Broadcast shape of a per-channel constant for an image batch of rank `ndim`."""
    if data_format == "channels_last":
        return (1,) * (ndim - 1) + (3,)
    return (3, 1, 1) if ndim == 3 else (1, 3) + (1,) * (ndim - 2)


def _bgr(x, data_format, flip):
    axis = -1 if data_format == "channels_last" else (0 if x.ndim == 3 else 1)
    return flip(x, axis)


def _preprocess_numpy(x, data_format, mode):
    if not issubclass(x.dtype.type, np.floating):
        x = x.astype(backend.floatx(), copy=False)
    if mode == "tf":
        x /= 127.5
        x -= 1.0
        return x
    if mode == "torch":
        x /= 255.0
        mean, std = _TORCH_MEAN, _TORCH_STD
    else:
        x = _bgr(x, data_format, np.flip)
        mean, std = _CAFFE_MEAN, None
    shape = _channel_shape(x.ndim, data_format)
    x -= np.reshape(np.asarray(mean, x.dtype), shape)
    if std is not None:
        x /= np.reshape(np.asarray(std, x.dtype), shape)
    return x


def _preprocess_tensor(x, data_format, mode):
    x = ops.convert_to_tensor(x)
    if mode == "tf":
        return x / 127.5 - 1.0
    if mode == "torch":
        x = x / 255.0
        mean, std = _TORCH_MEAN, _TORCH_STD
    else:
        x = _bgr(x, data_format, lambda t, axis: ops.flip(t, axis=axis))
        mean, std = _CAFFE_MEAN, None
    shape = _channel_shape(len(x.shape), data_format)
    x = x + ops.reshape(ops.convert_to_tensor(-np.asarray(mean), dtype=x.dtype), shape)
    if std is not None:
        x = x / ops.reshape(ops.convert_to_tensor(np.asarray(std), dtype=x.dtype), shape)
    return x


def decode_predictions(preds, top=5):
    """Decodes the predictions of an ImageNet model.

    The class index (`imagenet_class_index.json`) is fetched once with
    `kerax.utils.get_file` from Keras' URL into the `models` cache, its hash checked.

    Args:
        preds: an array of shape `(samples, 1000)`.
        top: how many top guesses to return per sample. Defaults to `5`.

    Returns:
        One list per sample of `(class_name, class_description, score)` tuples, best
        first.

    Raises:
        ValueError: if `preds` is not of shape `(samples, 1000)`.

    Example:
    >>> import numpy as np
    >>> decode_predictions(np.zeros((1, 10)))
    Traceback (most recent call last):
    ...
    ValueError: `decode_predictions` expects a batch of predictions ... shape: (1, 10)
    """
    global CLASS_INDEX
    if len(preds.shape) != 2 or preds.shape[1] != 1000:
        raise ValueError(
            "`decode_predictions` expects a batch of predictions "
            "(i.e. a 2D array of shape (samples, 1000)). "
            f"Received array with shape: {preds.shape}"
        )
    if CLASS_INDEX is None:
        fpath = file_utils.get_file("imagenet_class_index.json", CLASS_INDEX_PATH,
                                    cache_subdir="models", file_hash=CLASS_INDEX_HASH)
        with open(fpath) as f:
            CLASS_INDEX = json.load(f)
    results = []
    for pred in ops.convert_to_numpy(preds):
        top_indices = pred.argsort()[-top:][::-1]
        result = [tuple(CLASS_INDEX[str(i)]) + (pred[i],) for i in top_indices]
        result.sort(key=lambda r: r[2], reverse=True)
        results.append(result)
    return results


def obtain_input_shape(input_shape, default_size, min_size, data_format, require_flatten,
                       weights=None):
    """Computes and checks a model's input shape (Keras' rules and messages).

    Args:
        input_shape: None (the default shape) or a user's 3-tuple to check.
        default_size: the default width/height.
        min_size: the smallest width/height the model accepts.
        data_format: `"channels_last"` or `"channels_first"`.
        require_flatten: whether the model ends in a classifier (`include_top=True`),
            which needs a static shape.
        weights: None, `"imagenet"` (3 channels needed) or a path.

    Returns:
        An input shape tuple (may hold None sizes).

    Raises:
        ValueError: for a shape of the wrong rank, channels, or size.

    Example:
    >>> obtain_input_shape(None, 224, 32, "channels_last", require_flatten=False)
    (None, None, 3)
    >>> obtain_input_shape(None, 224, 32, "channels_last", require_flatten=True)
    (224, 224, 3)
    """
    channels_first = data_format == "channels_first"
    if weights != "imagenet" and input_shape and len(input_shape) == 3:
        channels = input_shape[0] if channels_first else input_shape[-1]
        if channels not in {1, 3}:
            warnings.warn("This model usually expects 1 or 3 input channels. However, it "
                          f"was passed an input_shape with {channels} input channels.",
                          stacklevel=2)
        default_shape = ((input_shape[0], default_size, default_size) if channels_first
                         else (default_size, default_size, input_shape[-1]))
    else:
        default_shape = ((3, default_size, default_size) if channels_first
                         else (default_size, default_size, 3))
    if weights == "imagenet" and require_flatten:
        if input_shape is not None and input_shape != default_shape:
            raise ValueError(
                "When setting `include_top=True` and loading `imagenet` weights, "
                f"`input_shape` should be {default_shape}.  Received: "
                f"input_shape={input_shape}"
            )
        return default_shape
    if input_shape:
        if len(input_shape) != 3:
            raise ValueError("`input_shape` must be a tuple of three integers.")
        channels = input_shape[0] if channels_first else input_shape[-1]
        if channels != 3 and weights == "imagenet":
            raise ValueError(
                f"The input must have 3 channels; Received `input_shape={input_shape}`"
            )
        sizes = input_shape[1:] if channels_first else input_shape[:2]
        if any(s is not None and s < min_size for s in sizes):
            raise ValueError(f"Input size must be at least {min_size}x{min_size}; "
                             f"Received: input_shape={input_shape}")
    elif require_flatten:
        input_shape = default_shape
    else:
        input_shape = (3, None, None) if channels_first else (None, None, 3)
    if require_flatten and None in input_shape:
        raise ValueError(
            "If `include_top` is True, you should specify a static `input_shape`. "
            f"Received: input_shape={input_shape}"
        )
    return input_shape


def correct_pad(inputs, kernel_size):
    """The `ZeroPadding2D` padding before a stride-2 convolution (TF-style 'same').

    Args:
        inputs: a symbolic image tensor.
        kernel_size: an int or a pair of ints.

    Returns:
        `((top, bottom), (left, right))`.

    Example:
    >>> import kerax
    >>> correct_pad(kerax.Input((32, 32, 3)), 3)
    ((0, 1), (0, 1))
    """
    img_dim = 2 if backend.image_data_format() == "channels_first" else 1
    input_size = inputs.shape[img_dim:img_dim + 2]
    if isinstance(kernel_size, int):
        kernel_size = (kernel_size, kernel_size)
    if input_size[0] is None:
        adjust = (1, 1)
    else:
        adjust = (1 - input_size[0] % 2, 1 - input_size[1] % 2)
    correct = (kernel_size[0] // 2, kernel_size[1] // 2)
    return ((correct[0] - adjust[0], correct[0]), (correct[1] - adjust[1], correct[1]))


def validate_activation(classifier_activation, weights):
    """Checks that pretrained weights come with a `None` or `"softmax"` classifier.

    Raises:
        ValueError: for another activation when `weights` is not None.

    Example:
    >>> validate_activation("relu", None)  # random weights: anything goes
    >>> validate_activation("softmax", "imagenet")
    """
    if weights is None:
        return
    classifier_activation = activations.get(classifier_activation)
    if classifier_activation not in {activations.get("softmax"), activations.get(None)}:
        raise ValueError(
            "Only `None` and `softmax` activations are allowed for the "
            "`classifier_activation` argument when using pretrained weights, with "
            f"`include_top=True`; Received: classifier_activation={classifier_activation}"
        )
