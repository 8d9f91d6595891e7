"""`kerax.ops` on symbolic tensors: a call with a `KerasTensor` records a graph node.

`install()` (run once by `kerax.ops`) wraps every public op function: when an argument
(or an item of a list/tuple argument, as in `concatenate([a, b])`) is a `KerasTensor`, the
call becomes a node of an `OpLayer` (see `kerax.layers.core.op_layer`); otherwise the op
runs directly, after a check of the top-level arguments only.

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

OPS = {}  # public name ("add", "image.resize") -> the unwrapped op function

# Ops that take functions or return Python values: they are not graph nodes.
_EXCLUDED = frozenset({
    "associative_scan", "cond", "convert_to_numpy", "custom_gradient", "dtype",
    "fori_loop", "is_tensor", "map", "scan", "shape", "switch", "vectorized_map",
    "while_loop", "result_type",
})
_SUBMODULES = ("numpy", "nn", "linalg", "math", "image", "core")


def get_op(name):
    """The `kerax.ops` function registered under `name` (a saved op node's `op`).

    Example:
    >>> get_op("add").__name__
    'add'
    """
    if not OPS:
        import kerax.ops  # noqa: F401  (installs the registry)
    fn = OPS.get(name)
    if fn is None:
        from kerax.errors import unknown_identifier

        raise unknown_identifier("op", name, OPS)
    return fn


def _make_wrapper(fn, name):
    from kerax.backend.keras_tensor import KerasTensor

    def symbolic_call(args, kwargs):
        from kerax.layers.core.op_layer import OpLayer

        return OpLayer(name)(*args, **kwargs)

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
    """Wraps the public functions of `kerax.ops` and its submodules (once)."""
    import kerax.ops as ops

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
