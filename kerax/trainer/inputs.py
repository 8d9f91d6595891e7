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
from kerax.trainer import predict_plan
from kerax.trainer import stateless
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
        checked = _check_structure(model, first[0], what)
        if checked is not first[0]:  # a dict keyed by the input's name: every batch, as Keras
            adapter.x_transform = lambda x: _check_structure(model, x, what)
            first = adapter._peeked = (checked,) + tuple(first[1:])
        if what != "predict":
            _check_targets(model, first[1], what, stream=True)
        _validate_stream(model, adapter, first, what)
        if what != "predict":
            model._build_metrics(first)
        val = _unpack_validation(validation_data)
        _check_validation(model, val, first[0])
        return adapter, val
    if what == "fit" and not 0.0 <= validation_split < 1.0:
        raise ValueError(
            "`validation_split` must be a float in [0, 1). Received: "
            f"validation_split={validation_split!r}"
        )
    if validation_split and validation_data is not None:
        validation_split = 0.0  # Keras: validation_data takes precedence
    x, y, sample_weight, batch_size = model._prepare_arrays(x, y, sample_weight, batch_size,
                                                            what)
    x = _check_structure(model, x, what)
    if what != "predict":
        _check_targets(model, y, what)
    else:  # fewer examples than a batch: a power of two rows, not a padded batch
        batch_size = predict_plan.batch_rows(ada.num_samples(("x", x)), batch_size)
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
    keras_builds = what == "fit" and _keras_would_build(model)
    model._ensure_built(x, rows=min(batch_size, len(jax.tree_util.tree_leaves(x)[0])))
    model._validate_against_model(x, y, sample_weight, batch_size)
    _check_validation(model, val, x)
    model._batch_bytes = ada.batch_bytes((x, y, sample_weight), batch_size)
    adapter = ada.ArrayDataAdapter(x, y, sample_weight, batch_size, steps,
                                   shuffle if what == "fit" else False)
    if keras_builds:
        adapter.draw_for_build()
    if what != "predict":
        model._check_exact_batches(adapter)
        model._build_metrics(adapter.data, adapter.batch_size)
    return adapter, val


def _keras_would_build(model):
    """Whether Keras' `fit` would build the model, metrics or optimizer from a first batch
    (`_symbolic_build`: the first `fit` after `compile`)."""
    metrics = model._compile_metrics
    return (model._variables is None or getattr(model.optimizer, "state", 0) is None
            or (metrics is not None and not metrics.built))


def _expected_inputs(model):
    """`(structure, names)` of a Functional/Sequential model's inputs; None when unknown
    (a subclassed model takes whatever its `call` takes)."""
    struct = getattr(model, "_inputs_struct", None)
    try:
        names = model.input_names if struct is not None else None
        tensors = model.inputs if struct is None else None
    except (AttributeError, ValueError):
        return None
    if struct is not None:
        return struct, names
    if isinstance(tensors, (list, tuple)) and len(tensors) == 1:  # a built Sequential
        return tensors[0], [getattr(tensors[0], "name", "input")]
    return None


def unused_keys(model, x):
    """The keys of a dict `x` that name none of `model`'s inputs, sorted; [] for another
    `x` or a model that takes any keys (a subclassed model).

    Example:
    >>> import kerax
    >>> a, b = kerax.Input((2,), name="a"), kerax.Input((2,), name="b")
    >>> model = kerax.Model({"a": a, "b": b}, kerax.layers.Add()([a, b]))
    >>> unused_keys(model, {"a": 1, "b": 2, "c": 3})
    ['c']
    """
    expected = _expected_inputs(model)
    if not isinstance(x, dict) or expected is None:
        return []
    struct, names = expected
    keys = list(struct) if isinstance(struct, dict) else names
    return sorted(str(k) for k in x if k not in keys)


def _check_structure(model, x, what):
    """Keras' warning for extra dict keys; an error for several arrays given to a model
    that has one input (Keras would train on the wrong thing). Returns `x`, with a dict
    keyed by a single-input model's input name replaced by its array (as Keras feeds it)."""
    expected = _expected_inputs(model)
    if expected is None:
        return x
    struct, names = expected
    if isinstance(x, dict) and not isinstance(struct, (list, tuple, dict)):
        if names[0] not in x:
            raise ValueError(
                f"Missing data for input '{names[0]}' of model '{model.name}'. You passed a "
                f"data dictionary with keys {sorted(map(str, x))}. Expected the following "
                f"keys: {names[:1]}. Key the array by the input's name, or pass it alone.")
        if len(x) > 1:
            warnings.warn(
                "The structure of `inputs` doesn't match the expected structure.\n"
                f"Expected: keys {names[:1]}\nReceived: keys {sorted(map(str, x))}\n"
                f"The extra keys of `x` in `{what}()` are ignored; check their spelling "
                "against the model's input names.", stacklevel=4)
        return x[names[0]]
    if isinstance(x, dict):
        keys = list(struct) if isinstance(struct, dict) else names
        extra = unused_keys(model, x)
        if extra and all(k in x for k in keys):
            warnings.warn(
                "The structure of `inputs` doesn't match the expected structure.\n"
                f"Expected: keys {keys}\nReceived: keys {sorted(map(str, x))}\n"
                f"The extra keys {extra} of `x` in `{what}()` are ignored; check their "
                "spelling against the model's input names.", stacklevel=4)
        return x
    if (not isinstance(struct, (list, tuple, dict)) and isinstance(x, (list, tuple))
            and len(x) > 1):
        shapes = [tuple(getattr(a, "shape", ())) for a in x]
        raise ValueError(
            f"Model '{model.name}' has one input, but `x` in `{what}()` is a list of "
            f"{len(x)} input arrays (shapes {shapes}).\n"
            "This is about the inputs `x`, not the labels: pass a single array as `x`, or "
            f"build the model with {len(x)} `keras.Input`s to take {len(x)} inputs.")
    return x


def _check_targets(model, y, what, stream=False):
    """A compiled loss needs targets: say so before anything is traced."""
    if y is not None or model._compile_loss is None:
        return
    if stateless.custom_step(model, "train" if what == "fit" else "test"):
        return  # a custom step decides what it needs
    for name in ("compute_loss", "compute_loss_value"):
        if not getattr(type(model), name).__module__.startswith("kerax."):
            return  # so does an overridden loss
    fix = ("make the dataset or generator yield `(x, y)` or `(x, y, sample_weight)` batches "
           "(it yielded `x` or `(x,)`)" if stream else f"pass the targets: `{what}(x, y)`")
    raise ValueError(
        f"`{what}()` received no targets `y`, but the model was compiled with a loss that "
        f"needs them.\nTo fix: {fix}, or compile without a `loss` if the model adds its "
        "own losses with `add_loss`.")


def _check_validation(model, val, x):
    """`validation_data` arrays are checked against the model before the first epoch."""
    if val is None or stream_data_adapter.is_stream(val[0]):
        return
    xv = ada.standardize("validation_data x", _check_structure(model, val[0], "fit"))
    yv = ada.standardize("validation_data y", val[1])
    if any(a.shape[0] == 0 for a in jax.tree_util.tree_leaves((xv, yv))):
        raise ValueError("`validation_data` is empty (0 samples), found before training "
                         "starts. Pass at least one validation example, or leave "
                         "`validation_data` out (Keras 3 then trains without validation).")
    exact = getattr(model, "_exact_last_batch", False)
    try:
        model._validate_against_model(xv, yv, None)
    except Exception as e:
        per_sample = lambda t: jax.tree_util.tree_map(  # noqa: E731
            lambda a: (None,) + tuple(a.shape[1:]), t)
        raise ValueError(
            "`validation_data` does not fit the model (checked before training starts).\n"
            f"Expected x shapes (as the training data): {per_sample(x)}\n"
            f"Received validation x shapes: {per_sample(xv)}, y shapes: "
            f"{per_sample(yv)}\n{type(e).__name__}: {e}") from e
    finally:
        model._exact_last_batch = exact


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


__all__ = ["open_input", "unused_keys"]
