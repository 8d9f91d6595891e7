"""The data adapter of a `fit`/`evaluate`/`predict` call, made and checked in one place.

Arrays become an `ArrayDataAdapter` (batches gathered on the device by index); a
PyDataset, generator, tf.data or grain dataset a `StreamDataAdapter`. Either way the model
is built from the first batch, checked against it, and its metrics are built, before
anything compiles.
"""

import warnings

import jax
import numpy as np

from kerax.backend import random_state
from kerax.trainer.data_adapters import array_data_adapter as ada
from kerax.trainer.data_adapters import stream_data_adapter
from kerax.trainer.data_adapters.stream_data_adapter import StreamDataAdapter
from kerax.trainer.pytrees import host_seed


def open_input(model, what, x, y=None, sample_weight=None, batch_size=None, steps=None,
               shuffle=False, class_weight=None, validation_split=0.0, validation_data=None):
    """`(adapter, validation)` for `what` ("fit", "evaluate", "predict").

    `validation` is `(x_val, y_val, sample_weight_val)` (`fit` only: split from the
    arrays or unpacked from `validation_data`) or None.
    """
    if stream_data_adapter.is_stream(x):
        _check_stream_args(what, y, sample_weight, validation_split)
        adapter = StreamDataAdapter(x, steps, None, class_weight if what == "fit" else None)
        if shuffle and what == "fit" and adapter.is_py_dataset:
            adapter.shuffle_with(_shuffle_seed(x))
        first = adapter.peek()
        _validate_stream(model, adapter, first, what)
        if what != "predict":
            model._build_metrics(first)
        return adapter, _unpack_validation(validation_data)
    if what == "fit" and not 0.0 <= validation_split < 1.0:
        raise ValueError(
            "`validation_split` must be a float in [0, 1). Received: "
            f"validation_split={validation_split!r}"
        )
    if validation_split and validation_data is not None:
        validation_split = 0.0  # Keras: validation_data takes precedence
    x, y, sample_weight, batch_size = model._prepare_arrays(x, y, sample_weight, batch_size,
                                                            what)
    val = _unpack_validation(validation_data)
    if validation_split:
        n = ada.num_samples(("x", x), ("y", y), ("sample_weight", sample_weight))
        (x, y, sample_weight), val = ada.split_validation((x, y, sample_weight),
                                                          validation_split, n)
    if class_weight is not None and what == "fit":  # the training rows only, as in Keras
        if y is None or isinstance(y, (dict, list, tuple)):
            raise ValueError("`class_weight` is only supported for a single target array.")
        if sample_weight is not None:
            raise ValueError(
                "You cannot `class_weight` and `sample_weight` at the same time (as in "
                "Keras): multiply the class weights into `sample_weight` instead.")
        sample_weight = ada.class_weights_to_sample_weights(y, class_weight)
    model._ensure_built(x)
    model._validate_against_model(x, y, sample_weight, batch_size)
    seed = host_seed(random_state.next_key()) if what == "fit" else 0
    model._batch_bytes = ada.batch_bytes((x, y, sample_weight), batch_size)
    adapter = ada.ArrayDataAdapter(x, y, sample_weight, batch_size, steps,
                                   shuffle if what == "fit" else False, seed)
    if what != "predict":
        model._check_exact_batches(adapter)
        model._build_metrics(adapter.data, adapter.batch_size)
    return adapter, val


def _check_stream_args(what, y, sample_weight, validation_split=0.0):
    if y is not None:
        raise ValueError(
            f"`y` must be None when `x` is a dataset, generator or PyDataset in `{what}()`: "
            "yield `(x, y)` or `(x, y, sample_weight)` batches from it instead."
        )
    if sample_weight is not None:
        raise ValueError(
            f"`sample_weight` must be None when `x` is a dataset or generator in `{what}()`: "
            "yield `(x, y, sample_weight)` batches instead."
        )
    if validation_split:
        raise ValueError(
            "`validation_split` is only supported for NumPy/JAX arrays. For a dataset or "
            "generator, pass `validation_data` instead."
        )


def _validate_stream(model, adapter, first, what):
    x, y, sw = first
    if what == "predict":
        y = sw = None
    model._ensure_built(x)
    try:
        model._validate_against_model(x, y, sw)
        # An `add_loss` over batch rows must not see padding: batches run at their size.
        adapter.exact_rows = bool(getattr(model, "_exact_last_batch", False))
    except Exception as e:
        if adapter.kind != "grain":
            raise
        shapes = jax.tree_util.tree_map(lambda a: tuple(a.shape), x)
        raise ValueError(
            "kerax reads each element of a grain dataset as one whole batch (as Keras does), "
            f"and the first element (x shapes {shapes}) does not fit the model: {e} If the "
            "dataset yields single examples, batch it first: `dataset.batch(batch_size)`."
        ) from e


def _shuffle_seed(x):
    """The seed of PyDataset `x`'s batch orders (None: not shuffled), the same on every
    process; an infinite PyDataset is not shuffled, with Keras' warning."""
    try:
        endless = x.num_batches is None
    except NotImplementedError:
        endless = True
    if endless:
        warnings.warn(
            "`shuffle=True` was passed, but will be ignored since the data `x` was provided "
            "as an infinite PyDataset. The PyDataset is expected to already be shuffled.",
            stacklevel=4)
        return None
    seed = host_seed(random_state.next_key())
    if jax.process_count() > 1:
        from jax.experimental import multihost_utils

        seed = int(multihost_utils.broadcast_one_to_all(np.int32(seed)))
    return seed


def _unpack_validation(data):
    if data is None:
        return None
    if stream_data_adapter.is_stream(data):  # a PyDataset, generator, tf.data, grain, ...
        return data, None, None
    if isinstance(data, (list, tuple)):
        if len(data) == 2:
            return data[0], data[1], None
        if len(data) == 3:
            return tuple(data)
    raise ValueError(
        "`validation_data` must be a tuple `(x_val, y_val)` or `(x_val, y_val, "
        f"val_sample_weight)`, or a dataset. Received a {type(data).__name__}."
    )


__all__ = ["open_input"]
