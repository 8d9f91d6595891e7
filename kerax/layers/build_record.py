"""Keras' build record, written by the stateful shell and never by the pure `init`.

Keras' `build` marks a layer built and records what its object model reads later: the
build shapes (`get_build_config`), the weight order (`layer.weights`), the variable paths,
an input spec narrowed to the built shape, sub-layers created in `build`. `init` is a
pure function, so it runs as a transaction: whatever building writes on the layer (or on
its sub-layers) is taken back when `init` returns, and handed, as a record, to the shell
that asked for it (an eager build, `build()`, a symbolic call, model construction) through
`recording()`, which writes it where Keras writes it. `init` called on its own leaves the
layer exactly as it was.

Example:
>>> import jax, jax.numpy as jnp
>>> from kerax.layers import Dense
>>> layer = Dense(3)
>>> _ = layer.init(jax.random.PRNGKey(0), jnp.ones((2, 4)))
>>> layer.built
False
>>> with recording():
...     _ = layer.init(jax.random.PRNGKey(0), jnp.ones((2, 4)))
>>> layer.built
True
"""

import contextlib

import jax
import jax.numpy as jnp

from kerax.errors import LayerShapeError
from kerax.layers.input_spec import assert_input_compatibility

_RECORDERS = []  # one list of `(layer, changes)` per open `recording()`
_MISSING = object()


@contextlib.contextmanager
def recording(write=True):
    """Writes the build record of every `init` run inside it, when it exits normally
    (with `write=False`, only collects it: the `(layer, changes)` pairs it yields)."""
    records = []
    _RECORDERS.append(records)
    try:
        yield records
    finally:
        _RECORDERS.pop()
    if not write:
        return
    for layer, changes in records:
        for name, value in changes.items():
            if value is _MISSING:
                layer.__dict__.pop(name, None)
            else:
                layer.__dict__[name] = value


_OPEN = []  # the snapshots of the outermost running `init`: {id: (layer, snapshot)}


@contextlib.contextmanager
def transaction(layer):
    """Runs `init`'s body on `layer`; when the outermost `init` returns, takes back what
    building wrote on every layer it reached, and passes it to the innermost open
    `recording()` (if any). Inside, a sub-layer's record stays visible to its parent's
    build (a Keras-style layer built by `init` is not built again by `apply`)."""
    outermost = not _OPEN
    if outermost:
        _OPEN.append({})
    before = _OPEN[0]
    for l in _tree(layer):  # a layer reached for the first time: as it was before
        before.setdefault(id(l), (l, _snapshot(l.__dict__)))
    try:
        yield
    except BaseException:
        if outermost:
            _OPEN.pop()
            for l, snap in before.values():
                _restore(l, snap)
        raise
    if not outermost:
        return
    _OPEN.pop()
    records = []
    for l, snap in before.values():
        changes = _changes(snap, l.__dict__)
        if changes:
            records.append((l, changes))
        _restore(l, snap)
    if _RECORDERS:
        _RECORDERS[-1].extend(records)


def _tree(layer, seen=None):
    seen = {} if seen is None else seen
    if id(layer) not in seen:
        seen[id(layer)] = layer
        for child in layer._children().values():
            _tree(child, seen)
    return list(seen.values())


def _copy(value):
    # One level deep: building adds entries to a layer's own dicts (`_sublayers`, `_views`).
    if type(value) in (dict, list, set):
        return type(value)(value)
    return value


def _snapshot(d):
    return {k: (v, _copy(v)) for k, v in d.items()}


def _same(a, b):
    if a is b:
        return True
    if type(a) is not type(b) or type(a) not in (dict, list, set):
        return False
    if isinstance(a, set):
        return a == b
    if len(a) != len(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(a[k] is b[k] for k in a)
    return all(x is y for x, y in zip(a, b))


def _changes(snap, d):
    changes = {k: _MISSING for k in snap if k not in d}
    for k, v in d.items():
        if k not in snap:
            changes[k] = v
        else:
            obj, content = snap[k]
            if v is not obj or not _same(v, content):
                changes[k] = _copy(v)
    return changes


def _restore(layer, snap):
    layer.__dict__.clear()
    for k, (obj, content) in snap.items():
        if type(obj) in (dict, list, set) and not _same(obj, content):
            obj.clear()
            (obj.update if not isinstance(obj, list) else obj.extend)(content)
        layer.__dict__[k] = obj


# ------------------------------------------------- inputs of a never-built layer --
def check_inputs(layer, variables, inputs):
    """Checks `inputs` against the variables a never-built `layer` was given.

    A built layer's input spec is narrowed to the shape it was built for (Keras' record,
    written by the shell); a layer that only ran the pure `init` has no such record, so its
    variables tell: inputs for which `init` would make variables of other shapes get the
    error the built layer's input spec gives (found by rebuilding, abstractly, for the first
    input with one axis resized to a size of the variables), or one naming both shapes.
    """
    params = variables.get("params", {})
    got = jax.tree_util.tree_map(lambda a: tuple(jnp.shape(a)), params)
    try:
        want, _, structure = _abstract_build(layer, inputs)
    except (TypeError, jax.errors.JAXTypeError, jax.errors.UnexpectedTracerError):
        return  # built from more than these inputs, or not abstractly: `forward` checks
    except (ValueError, IndexError) as e:  # these inputs cannot build the layer at all
        _raise_built_spec_error(layer, got, inputs)
        raise LayerShapeError(
            f"{type(layer).__name__} '{layer.name}' received input of shape "
            f"{tuple(jnp.shape(inputs[0]))}, which does not fit the variables it was given: "
            f"{e}"
        ) from e
    if jax.tree_util.tree_structure(params) != structure or got == want:
        return  # other variables (a missing sub-layer): `forward` names what is missing
    _raise_built_spec_error(layer, got, inputs)
    raise LayerShapeError(
        f"{type(layer).__name__} '{layer.name}': its variables were created for inputs of "
        f"another shape (params {got}), but it received input of shape "
        f"{tuple(jnp.shape(inputs[0]))} (which needs params {want}). Pass inputs shaped "
        "like those given to `init`, or `init` the layer for this input shape."
    )


def _abstract_build(layer, inputs):
    """The param shapes, the input spec and the params' tree structure `init` gives `layer`
    for `inputs` (abstractly; nothing is written on the layer)."""
    with recording(write=False) as records:
        # `type(layer).init`: a Keras-style layer may use `self.init` for its own data.
        out = jax.eval_shape(lambda *xs: type(layer).init(layer, jax.random.PRNGKey(0), *xs),
                             *inputs)
    spec = next((c["input_spec"] for l, c in records if l is layer and "input_spec" in c),
                None)
    shapes = jax.tree_util.tree_map(lambda a: tuple(a.shape), out["params"])
    return shapes, spec, jax.tree_util.tree_structure(out["params"])


def _raise_built_spec_error(layer, got, inputs):
    """Raises the built layer's input-spec error if the first input, with one axis resized
    to a size found in the variables, is what they were built for."""
    first = inputs[0]
    if not (hasattr(first, "shape") and hasattr(first, "dtype")):
        return
    shape = tuple(first.shape)
    sizes = sorted({d for s in jax.tree_util.tree_leaves(got, is_leaf=_is_shape) for d in s})
    for axis in range(len(shape)):
        for size in sizes:
            if size == shape[axis]:
                continue
            resized = shape[:axis] + (size,) + shape[axis + 1:]
            candidate = (jax.ShapeDtypeStruct(resized, first.dtype),) + tuple(inputs[1:])
            try:
                want, spec, _ = _abstract_build(layer, candidate)
            except (ValueError, IndexError, TypeError, jax.errors.JAXTypeError):
                continue  # not a shape this layer builds for
            if want == got and spec is not None:
                assert_input_compatibility(layer, spec, first)


def _is_shape(x):
    return isinstance(x, tuple) and all(isinstance(d, int) for d in x)
