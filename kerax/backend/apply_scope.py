"""Call contexts: a layer called inside a parent's `apply` uses the parent's pytree.

When a Keras-style layer or subclassed model runs `call`, `ApplyScope` is active: a
sub-layer's `__call__` looks up its variables in the scope by the attribute name it is
stored under, runs its pure `apply`, and records its new state in the scope; weights
created with `add_weight` resolve against the scope's arrays. While initializing, the
scope creates a sub-layer's variables the first time it is called (Haiku's `transform`
and Keras' stateless scope are prior art).
"""

import contextlib
import contextvars
import threading
import zlib

import jax

from kerax.backend import host_prng
from kerax.backend.keras_tensor import KerasTensor

_LOCAL = threading.local()


def _stack():
    if not hasattr(_LOCAL, "stack"):
        _LOCAL.stack = []
    return _LOCAL.stack


def current():
    """The innermost active `ApplyScope`, or None."""
    stack = _stack()
    return stack[-1] if stack else None


def scope_for(layer):
    """The innermost active scope owned by `layer`, or None."""
    for sc in reversed(_stack()):
        if sc.owner is layer:
            return sc
    return None


def _scope_and_path(layer):
    """The innermost scope whose owner is `layer` or holds it as a (nested) sub-layer,
    with the path of `layer`'s variables inside that scope's trees."""
    for sc in reversed(_stack()):
        if sc.owner is layer:
            return sc, ()
        path = sc.path_to(layer)
        if path is not None:
            return sc, path
    return None, None


def variables_for(layer, collection):
    """The dict holding `layer`'s own `collection` ("params"/"state") values right now.

    Inside a running `apply` of `layer` or of a layer holding it, the traced values of
    that scope; otherwise the layer's stored variables (None before it is built).
    """
    sc, path = _scope_and_path(layer)
    if sc is not None:
        tree = sc.params if collection == "params" else sc.state
        for p in path:
            tree = tree.get(p)
            if tree is None:
                return None
        return tree
    return layer._own_variables_tree(collection)


def assign_in_scope(layer, collection, name, value):
    """Records `layer.<name> = value` in the running scope (as Keras' stateless scope):
    the rest of the call reads it and a new state value is returned by `apply`.

    Returns False when no scope holds `layer` (the caller then writes the layer itself).
    A trainable value assigned inside an eager call is also noted in the forward record,
    so the eager shell keeps it afterwards, as Keras does outside `fit`/`predict`.
    """
    sc, path = _scope_and_path(layer)
    if sc is None:
        return False
    node = sc.params if collection == "params" else sc.state
    for p in path:
        node[p] = dict(node.get(p, {}))
        node = node[p]
    node[name] = value
    rec = _RECORD.get()
    if rec is not None and collection == "params":
        rec.assigned_params.append((layer, name, value))
    return True


def seed_state_slot(generator):
    """`(scope, name)` when `generator` is an attribute of a layer being applied, else None.

    Its state is then `scope.state[name]`, read and advanced purely.
    """
    for sc in reversed(_stack()):
        for name, g in sc.owner.__dict__.get("_seed_generators", {}).items():
            if g is generator:
                return sc, name
    return None


def name_key(key, name):
    """A key for the child stored under `name`, independent of call order."""
    return host_prng.fold_in(key, zlib.crc32(name.encode()) & 0x7FFFFFFF)


class ApplyScope:
    """The variables of one layer's `call`, with its children's sub-trees inside."""

    def __init__(self, owner, params, state, training=False, rng=None, key=None,
                 initializing=False):
        self.owner = owner
        self.params = dict(params)
        self.state = dict(state)
        self.training = training
        self.rng = rng
        self.key = key
        self.initializing = initializing
        # Sub-layers first met in the abstract pass of a parent's `init` under an outer
        # trace (`jax.jit(model.init)`): their variables made in that pass are abstract, so
        # they are made again after it (`init_deferred`). None: make them where met.
        self.deferred = None
        self.losses = []
        self._names = {id(layer): name for name, layer in owner._children().items()}

    def path_to(self, layer):
        """The names leading from this scope's owner to its sub-layer `layer`, or None."""
        paths = self.__dict__.get("_paths")
        if paths is None or (id(layer) not in paths and self.initializing):
            paths = self._paths = {}  # sub-layers may be created in `build()`: refresh
            _collect_paths(self.owner, (), paths)
        return paths.get(id(layer))

    def __enter__(self):
        _stack().append(self)
        return self

    def __exit__(self, *exc):
        _stack().pop()

    def child_name(self, child):
        name = self._names.get(id(child))
        if name is None:  # sub-layers may be created in `build()`: refresh the map
            self._names = {id(layer): n for n, layer in self.owner._children().items()}
            name = self._names.get(id(child))
        if name is None:
            raise ValueError(
                f"Layer '{child.name}' was called inside '{self.owner.name}.call()' but is not "
                f"an attribute of '{self.owner.name}'. Create sub-layers in `__init__` (or "
                "`build`) and store them as attributes, e.g. `self.dense = Dense(8)`."
            )
        return name

    def call_child(self, child, args, kwargs):
        name = self.child_name(child)
        kwargs = dict(kwargs)
        training = kwargs.pop("training", None)
        training = self.training if training is None else training
        rng = kwargs.pop("rng", None)
        if rng is None and self.rng is not None:
            rng = name_key(self.rng, name)
        if name not in self.params and not self.initializing:
            # A state alone (a Dropout's seed state) does not make the params optional.
            wanted = ("params",) if name in self.state else ("params", "state")
            if _has_variables(child, args, wanted):
                raise ValueError(
                    f"No variables for sub-layer '{name}' of '{self.owner.name}': the "
                    "variables passed to `apply` do not match this model. Create them with "
                    "`model.init(...)` on the same model."
                )
        if name not in self.params and name not in self.state and self.initializing:
            with jax.ensure_compile_time_eval():
                # Through the class: a user's layer may set `self.init` (an initializer).
                variables = type(child).init(child, name_key(self.key, name), *args, **kwargs)
            if self.deferred is not None:
                self.deferred.append((name, child, _specs(args), _specs(kwargs)))
            if variables["params"]:
                self.params[name] = variables["params"]
            if variables["state"]:
                self.state[name] = variables["state"]
        sub = {"params": self.params.get(name, {}), "state": self.state.get(name, {})}
        outputs, new_state = type(child).apply(child, sub, *args, training=training, rng=rng,
                                               **kwargs)
        if new_state:
            self.state[name] = new_state
        return outputs


    def init_deferred(self):
        """Makes, in the running trace, the variables of the sub-layers the abstract pass
        met (replacing that pass's abstract values, which must not leak out of it)."""
        for name, child, args, kwargs in self.deferred or ():
            self.params.pop(name, None)
            self.state.pop(name, None)
            variables = type(child).init(child, name_key(self.key, name), *args, **kwargs)
            if variables["params"]:
                self.params[name] = variables["params"]
            if variables["state"]:
                self.state[name] = variables["state"]
        self.deferred = None


def _specs(tree):
    """Arrays in `tree` (tracers of a finished pass included) as `jax.ShapeDtypeStruct`."""
    return jax.tree_util.tree_map(
        lambda a: jax.ShapeDtypeStruct(a.shape, a.dtype)
        if isinstance(a, jax.Array) else a, tree)


def _collect_paths(layer, prefix, out):
    for name, child in layer._children().items():
        if id(child) not in out:
            out[id(child)] = prefix + (name,)
            _collect_paths(child, prefix + (name,), out)


def _has_variables(layer, args, collections=("params", "state")):
    """Whether `layer`, called on `args`, has variables in `collections`: a variable-less
    child such as `Dropout(0.0)` has no entry in its parent's pytree. A child that was never built (its parent
    was made with `from_config` and given another instance's variables) is initialized
    abstractly to find out, so `apply` does not depend on an earlier `init`."""
    if layer.__dict__.get("_init_empty"):  # its `init` made no variables
        return False
    v = layer._variables
    if v is None:
        v = jax.eval_shape(lambda *xs: type(layer).init(layer, jax.random.PRNGKey(0), *xs),
                           *args)
    return bool(jax.tree_util.tree_leaves([v[c] for c in collections]))


def any_symbolic(tree):
    leaves = jax.tree_util.tree_leaves(tree, is_leaf=lambda x: isinstance(x, KerasTensor))
    return any(isinstance(x, KerasTensor) for x in leaves)


# ------------------------------------------------------------------ forward records --
# What a forward pass produces besides outputs and state: the losses added by
# `add_loss` and activity regularizers, and the output masks of containers. `apply`
# stays pure: nothing is stored on the layer objects; whoever wants these values (the
# train step, the eager shell) opens a record around `apply` and reads it afterwards.
_RECORD = contextvars.ContextVar("kerax_forward_record", default=None)


class ForwardRecord:
    """Losses and output masks gathered during one forward pass (see `record_forward`)."""

    def __init__(self):
        self.losses = []
        self.masks = {}
        # Whether a loss was added that padded batch rows would change (a user's
        # `add_loss`); activity regularizers leave padded rows out themselves.
        self.row_dependent = False
        # `(layer, name, value)` of trainable variables assigned inside `call`: the eager
        # shell keeps them (Keras' eager call); `fit`/`predict` drop them, as Keras does.
        self.assigned_params = []

    def output_mask(self, layer):
        """The mask `layer` (a container) gave its outputs in this pass, or None."""
        return self.masks.get(id(layer))


@contextlib.contextmanager
def record_forward():
    """Collects `add_loss` values and container output masks of the `apply` calls inside.

    Example:
    >>> import jax.numpy as jnp
    >>> from kerax.layers import Dense
    >>> layer = Dense(2, activity_regularizer="l2")
    >>> v = layer.init(jax.random.PRNGKey(0), jnp.ones((1, 3)))
    >>> with record_forward() as rec:
    ...     _ = layer.apply(v, jnp.ones((1, 3)))
    >>> len(rec.losses)
    1
    """
    token = _RECORD.set(ForwardRecord())
    try:
        yield _RECORD.get()
    finally:
        _RECORD.reset(token)


def current_record():
    """The active `ForwardRecord`, or None (then added losses are not needed by anyone)."""
    return _RECORD.get()


def add_loss(value, rows_masked=False):
    """Adds a scalar loss to the active record (no-op outside `record_forward`).

    `rows_masked=True` says the value already leaves out padded batch rows.
    """
    rec = _RECORD.get()
    if rec is not None:
        rec.losses.append(value)
        rec.row_dependent = rec.row_dependent or not rows_masked


def record_output_mask(layer, mask):
    rec = _RECORD.get()
    if rec is not None:
        rec.masks[id(layer)] = mask
