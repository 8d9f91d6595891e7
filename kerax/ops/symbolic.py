"""`kerax.ops` on symbolic tensors: a call with a `KerasTensor` records a graph node.

`install()` (run once by `kerax.ops`) wraps every public op function: when an argument
(or an item of a list/tuple argument, as in `concatenate([a, b])`) is a `KerasTensor`, the
call becomes a node of an `OpLayer` (see `kerax.layers.core.op_layer`, which registers
itself here with `register_symbolic_call`: layers sit above ops); otherwise the op runs
directly, after a check of the top-level arguments only. `install()` also gives
`KerasTensor` its Python operators (`a + b` is `kerax.ops.add(a, b)`).

Example:
>>> import kerax
>>> a, b = kerax.Input((3,)), kerax.Input((3,))
>>> kerax.ops.concatenate([a, b], axis=-1).shape
(None, 6)
>>> kerax.ops.add(1.0, 2.0)
Array(3., dtype=float32, weak_type=True)
"""

import functools
import types

import kerax.ops as ops
from kerax.backend.keras_tensor import KerasTensor
from kerax.errors import unknown_identifier

OPS = {}  # public name ("add", "image.resize") -> the unwrapped op function

# Ops that take functions or return Python values: they are not graph nodes.
_EXCLUDED = frozenset({
    "associative_scan", "cond", "convert_to_numpy", "custom_gradient", "dtype",
    "fori_loop", "is_tensor", "map", "scan", "shape", "switch", "vectorized_map",
    "while_loop", "result_type",
})
_SUBMODULES = ("numpy", "nn", "linalg", "math", "image", "core")
_SYMBOLIC_CALL = []  # the one function that records an op call on symbolic tensors


def register_symbolic_call(fn):
    """Sets `fn(name, args, kwargs)`, which records the op `name` called on `KerasTensor`s.

    `kerax.layers.core.op_layer` registers `OpLayer(name)(*args, **kwargs)` when it is
    imported (symbolic tensors come from `kerax.Input`, so layers are imported by then).
    """
    _SYMBOLIC_CALL[:] = [fn]


def get_op(name):
    """The `kerax.ops` function registered under `name` (a saved op node's `op`).

    Example:
    >>> get_op("add").__name__
    'add'
    """
    fn = OPS.get(name)
    if fn is None:
        raise unknown_identifier("op", name, OPS)
    return fn


def _make_wrapper(fn, name):
    def symbolic_call(args, kwargs):
        if not _SYMBOLIC_CALL:
            raise RuntimeError(
                f"kerax.ops.{name} was called on a symbolic tensor (`KerasTensor`), but no "
                "symbolic call is registered: `kerax.layers` records op calls in a graph. "
                "Fix: `import kerax` (or `kerax.layers`) before calling ops on KerasTensors.")
        return _SYMBOLIC_CALL[0](name, args, kwargs)

    def has_kt(values):
        for v in values:
            if type(v) is KerasTensor:
                return True
            if type(v) in (list, tuple):
                for item in v:
                    if type(item) is KerasTensor:
                        return True
        return False

    def op(*args, **kwargs):
        if has_kt(args) or (kwargs and has_kt(kwargs.values())):
            return symbolic_call(args, kwargs)
        return fn(*args, **kwargs)

    # Give the wrapper the op module's globals, so that doctest still finds the op there.
    wrapper = types.FunctionType(op.__code__, fn.__globals__, fn.__name__, None,
                                 op.__closure__)
    functools.update_wrapper(wrapper, fn)
    wrapper._kerax_op = name
    return wrapper


def install():
    """Wraps the public functions of `kerax.ops` and its submodules (once), and gives
    `KerasTensor` its operators."""
    if OPS:
        return
    namespaces = [("", ops)] + [(f"{m}.", getattr(ops, m)) for m in _SUBMODULES]
    names = {}  # id(function) -> its public name (the top-level one when it has one)
    for prefix, module in namespaces:
        for attr, fn in vars(module).items():
            if (attr.startswith("_") or attr in _EXCLUDED or not isinstance(fn, types.FunctionType)
                    or not fn.__module__.startswith("kerax.ops")):
                continue
            name = attr if prefix == "" else (attr if getattr(ops, attr, None) is fn
                                               else prefix + attr)
            names.setdefault(id(fn), name)
            OPS.setdefault(name, fn)
    wrappers = {}
    for prefix, module in namespaces:
        for attr, fn in list(vars(module).items()):
            if id(fn) in names and getattr(fn, "_kerax_op", None) is None:
                if id(fn) not in wrappers:
                    wrappers[id(fn)] = _make_wrapper(fn, names[id(fn)])
                setattr(module, attr, wrappers[id(fn)])
    _install_operators()


def _operator(name, reflected=False):
    """A Python operator of `KerasTensor` that calls the `kerax.ops` function `name`."""

    def operator(self, *other):
        args = (other[0], self) if reflected else (self, *other)
        return getattr(ops, name)(*args)

    operator.__name__ = name
    return operator


def _install_operators():
    """Keras 3's operators on symbolic tensors (`__eq__` is left alone: tensors stay
    hashable)."""
    for dunder, name in [
        ("add", "add"), ("sub", "subtract"), ("mul", "multiply"), ("matmul", "matmul"),
        ("div", "true_divide"), ("truediv", "true_divide"), ("floordiv", "floor_divide"),
        ("mod", "mod"), ("pow", "power"), ("and", "logical_and"), ("or", "logical_or"),
        ("xor", "logical_xor"),
    ]:
        setattr(KerasTensor, f"__{dunder}__", _operator(name))
        setattr(KerasTensor, f"__r{dunder}__", _operator(name, reflected=True))
    for dunder, name in [
        ("neg", "negative"), ("abs", "absolute"), ("invert", "logical_not"), ("lt", "less"),
        ("le", "less_equal"), ("gt", "greater"), ("ge", "greater_equal"),
        ("ne", "not_equal"), ("getitem", "get_item"), ("round", "round"),
    ]:
        setattr(KerasTensor, f"__{dunder}__", _operator(name))
