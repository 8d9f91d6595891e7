"""Raw strings in `fit` / `evaluate` / `predict`: the host-side prefix of a model.

Host layers (`TextVectorization`, `StringLookup`, `IntegerLookup`, `Hashing`,
`HashedCrossing`) run in NumPy and cannot be traced. When a model's first layers are
host layers (the leading layers of a `Sequential`, or in a functional model the host
layers fed directly by a model input they alone consume), the trainer runs them in the
input pipeline: array data is transformed once on the host before batching, a stream
batch by batch (as the stream adapter reads each execution), and inside the compiled step
those layers pass their (already transformed) inputs through. Everything after them
stays one XLA program.
"""

import contextlib

import jax
import numpy as np

from kerax.utils.py_dataset import PyDataset


def _is_host(layer):
    return hasattr(type(layer), "host_output_spec")


def _is_class(model, name):
    return any(c.__name__ == name for c in type(model).__mro__)


def prefix(model):
    """The model's host prefix: `("sequential", [layers])`, `("functional",
    {input index: layer})`, or None when the model has no host layer in front."""
    layers = list(getattr(model, "layers", []) or [])
    if not any(_is_host(layer) for layer in layers):
        return None
    if _is_class(model, "Sequential"):
        lead = []
        for layer in layers:
            if not _is_host(layer):
                break
            lead.append(layer)
        return ("sequential", lead) if lead else None
    if not _is_class(model, "Functional"):
        return None
    inputs = model.inputs
    consumers = {i: [] for i in range(len(inputs))}
    for layer in layers:
        for node in layer.__dict__.get("_inbound_nodes", []):
            leaves = jax.tree_util.tree_leaves((node.args, node.kwargs),
                                               is_leaf=lambda t: hasattr(t, "_keras_history"))
            for i, t in enumerate(inputs):
                if any(leaf is t for leaf in leaves):
                    consumers[i].append((layer, node))
    found = {}
    for i, users in consumers.items():
        if len(users) != 1 or not _is_host(users[0][0]):
            continue
        layer, node = users[0]
        if len(layer.__dict__.get("_inbound_nodes", [])) != 1 or len(node.args) != 1:
            continue
        arg = node.args[0]
        if arg is inputs[i]:
            found[i] = (layer, None)
        elif isinstance(arg, (list, tuple)) and arg and arg[0] is inputs[i]:
            # several inputs (HashedCrossing): each consumed by this layer alone
            others = [next((j for j, t in enumerate(inputs) if t is a), None) for a in arg[1:]]
            if None not in others and all(consumers[j] == users for j in others):
                found[i] = (layer, others)
    return ("functional", found) if found else None


def has_strings(x):
    """Whether `x` (an array, a list, a dict of them) holds host strings.

    Example:
    >>> has_strings(np.array(["a"])), has_strings({"n": [1.0], "s": ["b"]}), has_strings([1])
    (True, True, False)
    """
    leaves = jax.tree_util.tree_leaves(x)
    return any(isinstance(leaf, (str, bytes)) or (isinstance(leaf, np.ndarray)
                                                 and leaf.dtype.kind in "USO")
               for leaf in leaves)


def _is_stream(x):
    return hasattr(x, "__iter__") and not isinstance(
        x, (list, tuple, dict, np.ndarray, str, bytes, jax.Array))


def _apply_x(model, plan, x):
    kind, layers = plan
    if kind == "sequential":
        for layer in layers:
            x = layer.host_call(x)
        return x
    names = [t._keras_history[0].name for t in model.inputs]
    if len(model.inputs) == 1 and not isinstance(x, dict):
        return layers[0][0].host_call(x) if 0 in layers else x
    keys = names if isinstance(x, dict) else range(len(model.inputs))
    x = dict(x) if isinstance(x, dict) else list(x)
    for i, (layer, others) in layers.items():
        for k in [i] + (others or []):  # Keras' rank adjustment, before the host layer
            x[keys[k]] = _to_input_rank(x[keys[k]], model.inputs[k])
        if others is None:
            x[keys[i]] = layer.host_call(x[keys[i]])
            continue
        # the layer's output takes its first input's place; the others carry nothing
        out = layer.host_call([x[keys[i]]] + [x[keys[j]] for j in others])
        rows = len(jax.tree_util.tree_leaves(out)[0])  # (a dict: FeatureSpace "dict" mode)
        for j in others:
            x[keys[j]] = np.zeros(rows, np.int32)
        x[keys[i]] = out
    return x


def _to_input_rank(value, tensor):
    """A raw column fitted to its model input as Keras fits inputs (a trailing axis of
    size 1 added or squeezed): `(batch,)` strings for an `Input((1,), dtype="string")`
    reach the host layer as `(batch, 1)`, as they would reach it in Keras."""
    arr = value if isinstance(value, np.ndarray) else np.asarray(value)
    if arr.ndim + 1 == len(tensor.shape) and tensor.shape[-1] == 1:
        return arr[..., None]
    if arr.ndim == len(tensor.shape) + 1 and arr.shape[-1] == 1:
        return arr[..., 0]
    return value


def _apply_batch(model, plan, batch):
    if isinstance(batch, tuple):
        return (_apply_x(model, plan, batch[0]),) + batch[1:]
    return _apply_x(model, plan, batch)


def build_on_raw(model, plan, x, rows=None):
    """Builds an unbuilt `Sequential` that starts with host layers on its raw input, so
    that its input (`model.inputs`, `summary()`, the saved config) is the string (or
    integer) input Keras shows, not the host prefix's output. `rows` is the batch size Keras records:
    None where Keras (on TensorFlow, the backend on which it trains on strings) traces
    with an unknown batch (`fit`, `evaluate`); else the first batch's size: `"first"`
    (all of `x`'s rows) or a batch size (capped at `x`'s rows).

    Example:
    >>> import kerax, numpy as np
    >>> model = kerax.Sequential([kerax.layers.StringLookup(vocabulary=["a", "b"])])
    >>> build_on_raw(model, prefix(model), np.array([["b"], ["q"]]))
    >>> model.input_shape, model.inputs[0].dtype
    ((None, 1), 'string')
    """
    if plan is None or plan[0] != "sequential" or model._variables is not None or x is None:
        return
    first = np.asarray(x)
    if rows is not None:
        rows = len(first) if rows == "first" else min(int(rows), len(first))
    model.__dict__["_summary_batch"] = rows
    dtype = object if first.dtype.kind in "USO" else first.dtype  # (object: strings)
    model.build_eagerly(jax.ShapeDtypeStruct((1,) + first.shape[1:], dtype))
    if _active(plan):  # built by a stream's first batch, inside `in_pipeline`
        for t in _fed_inputs(model, plan):
            t.__dict__["_host_fed"] = True


def transform(model, x, plan=None, rows=None):
    """`x` with the host prefix applied (arrays at once; a stream batch by batch); an
    unbuilt model is built on the raw input first (see `build_on_raw` for `rows`).

    Example:
    >>> import kerax, numpy as np
    >>> lookup = kerax.layers.StringLookup(vocabulary=["a", "b"])
    >>> model = kerax.Sequential([lookup])
    >>> transform(model, np.array([["b"], ["q"]])).tolist()
    [[2], [0]]
    """
    plan = plan or prefix(model)
    if plan is None or x is None or _active(plan):  # (fit's validation: already applied)
        return x
    if isinstance(x, PyDataset) or _is_stream(x):
        def fn(batch):
            raw = batch[0] if isinstance(batch, tuple) else batch
            build_on_raw(model, plan, raw, rows)
            return _apply_batch(model, plan, batch)
        if isinstance(x, PyDataset):
            return _MappedPyDataset(x, fn)
        # an iterator stays an iterator (read once); a re-iterable stays re-iterable
        return map(fn, x) if iter(x) is x else _MappedStream(x, fn)
    build_on_raw(model, plan, x, rows)
    return _apply_x(model, plan, x)


class _MappedStream:
    """A stream whose batches pass through `fn`; re-iterable when its source is."""

    def __init__(self, source, fn):
        self._source, self._fn = source, fn

    def __iter__(self):
        return map(self._fn, iter(self._source))


class _MappedPyDataset(PyDataset):
    """A `PyDataset` whose batches pass through `fn` (same length, order and epochs)."""

    def __init__(self, source, fn):
        super().__init__(workers=source.workers, use_multiprocessing=False,
                         max_queue_size=source.max_queue_size)
        self._source, self._fn = source, fn

    @property
    def num_batches(self):
        return self._source.num_batches

    def __getitem__(self, index):
        return self._fn(self._source[index])

    def on_epoch_begin(self):
        self._source.on_epoch_begin()

    def on_epoch_end(self):
        self._source.on_epoch_end()


def transform_validation(model, validation_data, plan=None):
    """`validation_data` (a tuple `(x, y[, sample_weight])` or a stream) transformed."""
    plan = plan or prefix(model)
    if plan is None or validation_data is None or _active(plan):
        return validation_data
    if isinstance(validation_data, (tuple, list)) and not _is_stream(validation_data[0]):
        return (_apply_x(model, plan, validation_data[0]),) + tuple(validation_data[1:])
    return transform(model, validation_data, plan)


def _layers(plan):
    return [] if plan is None else (plan[1] if plan[0] == "sequential"
                                    else [layer for layer, _ in plan[1].values()])


def _active(plan):
    return any(layer.__dict__.get("_in_pipeline", False) for layer in _layers(plan))


@contextlib.contextmanager
def in_pipeline(model, plan=None):
    """While active, the prefix layers pass traced inputs through (the pipeline has
    already applied them); their eager calls are unchanged."""
    plan = plan or prefix(model)
    layers = _layers(plan)
    fed = _fed_inputs(model, plan)  # their data is the prefix's output: no rank check
    before = [obj.__dict__.get(flag, False) for obj, flag in
              [(layer, "_in_pipeline") for layer in layers] + [(t, "_host_fed") for t in fed]]
    for obj, flag in [(layer, "_in_pipeline") for layer in layers] + \
            [(t, "_host_fed") for t in fed]:
        obj.__dict__[flag] = True
    try:
        yield
    finally:
        for (obj, flag), was in zip([(layer, "_in_pipeline") for layer in layers]
                                    + [(t, "_host_fed") for t in fed], before):
            obj.__dict__[flag] = was
        for t in _fed_inputs(model, plan):  # (a model built inside, on a stream)
            if not any(t is f for f in fed):
                t.__dict__.pop("_host_fed", None)


@contextlib.contextmanager
def applied_eagerly(model, plan):
    """While active, the prefix layers pass their inputs through, eager calls included:
    the model's eager `__call__` has run them on the host already."""
    layers = _layers(plan)
    before = [layer.__dict__.get("_prefix_applied", False) for layer in layers]
    for layer in layers:
        layer.__dict__["_prefix_applied"] = True
    try:
        with in_pipeline(model, plan):
            yield
    finally:
        for layer, was in zip(layers, before):
            layer.__dict__["_prefix_applied"] = was


def _fed_inputs(model, plan):
    """The model's input tensors whose data the host prefix replaces."""
    if plan is None:
        return []
    if plan[0] == "sequential":
        graph = model.__dict__.get("_graph")
        return [graph[0]] if graph is not None else []
    inputs = model.inputs
    return [inputs[k] for i, (_, others) in plan[1].items() for k in [i] + (others or [])]
