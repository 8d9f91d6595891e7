"""`OpLayer`: one `kerax.ops` call recorded in a functional graph (no weights).

`kerax.ops.add(a, b)` or `a + b` on symbolic tensors records a node of an `OpLayer` that
holds the op's public name and its non-tensor arguments; in the graph it receives only
the tensors and calls the op on them. Loading looks the op up by name among the
`kerax.ops` functions: nothing in a file is imported or executed.
"""

import jax
import numpy as np

from kerax.backend import apply_scope as scope_lib
from kerax.backend import naming
from kerax.backend.keras_tensor import KerasTensor
from kerax.layers.layer import Layer, shapes_of
from kerax.ops import symbolic


class _Slot:
    """Where the i-th tensor argument goes in an op call's arguments."""

    def __init__(self, index):
        self.index = index


def _is_kt(x):
    return isinstance(x, KerasTensor)


def _split(value, tensors):
    """Replaces the symbolic tensors in nested lists/tuples/dicts by `_Slot`s."""
    if _is_kt(value):
        tensors.append(value)
        return _Slot(len(tensors) - 1)
    if isinstance(value, (list, tuple)):
        return type(value)(_split(v, tensors) for v in value)
    if isinstance(value, dict):
        return {k: _split(v, tensors) for k, v in value.items()}
    return value


def _fill(value, tensors):
    if isinstance(value, _Slot):
        return tensors[value.index]
    if isinstance(value, (list, tuple)):
        return type(value)(_fill(v, tensors) for v in value)
    if isinstance(value, dict):
        return {k: _fill(v, tensors) for k, v in value.items()}
    return value


def _encode(value, op):
    """JSON-ready form of an op's non-tensor arguments (Keras' markers where it has one)."""
    if isinstance(value, _Slot):
        return {"class_name": "__tensor__", "config": {"index": value.index}}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, slice):
        return {"class_name": "__slice__", "config": {
            "start": _encode(value.start, op), "stop": _encode(value.stop, op),
            "step": _encode(value.step, op)}}
    if value is Ellipsis:
        return {"class_name": "__ellipsis__", "config": {}}
    if isinstance(value, tuple):
        return {"class_name": "__tuple__", "config": {"value": [_encode(v, op) for v in value]}}
    if isinstance(value, list):
        return [_encode(v, op) for v in value]
    if isinstance(value, dict):
        return {k: _encode(v, op) for k, v in value.items()}
    if isinstance(value, np.generic):
        return value.item()
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        array = np.asarray(value)
        return {"class_name": "__numpy__",
                "config": {"value": array.tolist(), "dtype": array.dtype.name}}
    if hasattr(value, "name") and type(value).__name__ == "dtype":
        return str(value)
    raise TypeError(
        f"Cannot save the call of op '{op}': its argument {value!r} of type "
        f"{type(value).__name__} is not a tensor, number, string, slice, list, tuple, dict or "
        "array. Pass such values as tensors, or wrap the computation in a custom layer."
    )


_MARKERS = ("__tensor__", "__slice__", "__ellipsis__", "__tuple__", "__numpy__")


def _decode(value):
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_decode(v) for v in value)
    if not isinstance(value, dict):
        return value
    kind, inner = value.get("class_name"), value.get("config") or {}
    if kind not in _MARKERS or set(value) - {"class_name", "config"}:
        return {k: _decode(v) for k, v in value.items()}
    if kind == "__tensor__":
        return _Slot(int(inner["index"]))
    if kind == "__slice__":
        return slice(*(_decode(inner.get(k)) for k in ("start", "stop", "step")))
    if kind == "__ellipsis__":
        return Ellipsis
    if kind == "__tuple__":
        return tuple(_decode(v) for v in inner["value"])
    return np.asarray(inner["value"], dtype=inner["dtype"])


class OpLayer(Layer):
    """A `kerax.ops` function applied in a functional graph (what `a + b` records).

    Args:
        op: the op's public name in `kerax.ops`, e.g. `"add"` or `"image.resize"`.
        args: the op's positional arguments, with tensors as placeholders (set on the
            first call when omitted).
        kwargs: the op's keyword arguments, likewise.
        **kwargs: base layer arguments (`name`, ...).

    Example:
    >>> import numpy as np, kerax
    >>> x = kerax.Input((3,))
    >>> y = kerax.ops.mean(x * 2.0, axis=1)
    >>> type(y._keras_history[0]).__name__, y.shape
    ('OpLayer', (None,))
    >>> kerax.Model(x, y).predict(np.ones((2, 3)), verbose=0).tolist()
    [2.0, 2.0]
    """

    def __init__(self, op, args=None, kwargs=None, **base):
        fn = symbolic.get_op(op)  # raises a clear error for an unknown name
        base.setdefault("name", naming.uniquify(op.split(".")[-1]))
        base["autocast"] = False  # ops keep their inputs' dtypes, as in Keras
        super().__init__(**base)
        self.op = op
        self._fn = fn
        self._template = None
        self._keras_kwargs = {}  # an op node read from a Keras file: its config's arguments
        if args is not None or kwargs is not None:
            self._template = (list(_decode(args or [])), dict(_decode(kwargs or {})))

    def __call__(self, *args, **kwargs):
        if self._template is not None:
            return self._call_tensors(args, kwargs)
        if not scope_lib.any_symbolic((args, kwargs)):
            return self._fn(*args, **kwargs)
        args, kwargs = _decode(list(args)), {**self._keras_kwargs, **_decode(kwargs)}
        if self.op.endswith("get_item") and len(args) == 2 and isinstance(args[1], list):
            args[1] = tuple(args[1])  # a Keras file saves an index tuple as a list
        tensors = []
        template = _split((args, kwargs), tensors)
        self._template = (list(template[0]), dict(template[1]))
        return self._call_tensors(tuple(tensors), {})

    def _call_tensors(self, tensors, kwargs):
        outputs = super().__call__(*tensors, **kwargs)
        if scope_lib.any_symbolic(tensors):
            _refine_shapes(self, tensors, outputs)
        return outputs

    def build_variables(self, key, *inputs):
        input_shapes = shapes_of(inputs)
        return {}, {}

    def forward(self, params, state, *tensors, training=False, rng=None, **kwargs):
        args, kw = _fill(self._template, list(tensors))
        return self._fn(*args, **kw), state

    def get_config(self):
        config = super().get_config()
        args, kwargs = self._template if self._template is not None else ([], {})
        config.update(op=self.op, args=_encode(list(args), self.op),
                      kwargs=_encode(dict(kwargs), self.op))
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config.pop("dtype", None)
        return cls(**config)


def _refine_shapes(layer, tensors, outputs):
    """Marks output dims that follow the inputs' unknown dims as `None` (exact shapes).

    The graph is traced with every unknown dim set to 2 and then to 3: output dims that
    differ depend on unknown dims; the others are static (`mean(x, axis=0)`).
    """
    def trace(size):
        specs = [t.spec(batch_size=size) for t in tensors]
        return jax.eval_shape(lambda *xs: layer.forward({}, {}, *xs)[0], *specs)

    two, three = trace(2), trace(3)
    kts = [o for o in jax.tree_util.tree_leaves(outputs, is_leaf=_is_kt) if _is_kt(o)]
    for kt, a, b in zip(kts, jax.tree_util.tree_leaves(two), jax.tree_util.tree_leaves(three)):
        kt.shape = tuple(None if da != db else int(da) for da, db in zip(a.shape, b.shape))


def from_layer_config(layer_config):
    """Builds the `OpLayer` for a functional config entry that records an op, else `None`.

    Reads kerax's own `OpLayer` entries and Keras 3's op entries (module `keras.src.ops.*`,
    e.g. class `Add` or `Mean` with `axis` in its config), whose non-tensor arguments are
    given in the node and taken on the first call.
    """
    module = layer_config.get("module") or ""
    class_name = layer_config.get("class_name")
    config = dict(layer_config.get("config") or {})
    if class_name == "OpLayer":
        return OpLayer.from_config(config)
    if not module.startswith("keras.src.ops"):
        return None
    name = config.pop("name", None)
    op = naming.to_snake_case(class_name)
    submodule = module.rsplit(".", 1)[-1]
    if op not in symbolic.OPS and f"{submodule}.{op}" in symbolic.OPS:
        op = f"{submodule}.{op}"
    layer = OpLayer(op, name=name)
    layer._keras_kwargs = _decode(config)
    return layer


# `kerax.ops` called on symbolic tensors records an `OpLayer` node (ops sit below layers).
symbolic.register_symbolic_call(lambda name, args, kwargs: OpLayer(name)(*args, **kwargs))

__all__ = ["OpLayer", "from_layer_config"]
