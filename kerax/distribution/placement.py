"""Where the trainer's pytrees live under the current distribution, with checked plans.

The trainer calls these hooks; each is the identity (or a plain `device_put`) when no
distribution is set. Under one:

- parameters and non-trainable state get the layout of their path (`variable_shardings`),
  checked: a `LayoutMap` key that matches nothing warns, a layout whose rank or divisibility
  does not fit the parameter raises, a large parameter left replicated under
  `ModelParallel` warns;
- optimizer slots follow the parameter they belong to (found by path and shape);
  everything else in the `TrainState` (counts, metrics, the rng) is replicated;
- device-resident array data is replicated on every device (one process) or kept as
  each process's block (several processes), and each execution's index plan is sharded
  on the batch axis, so every device gathers only its own rows;
- batches streamed from the host are sharded on the batch axis; with several processes,
  each process feeds its own batches (`jax.make_array_from_process_local_data`).
"""

import re
import warnings

import jax
import numpy as np
from jax.sharding import NamedSharding, PartitionSpec as P

from kerax.distribution import distribution_lib
from kerax.layers import build_record

# A parameter at least this large left replicated under ModelParallel gets a warning.
LARGE_PARAMETER_BYTES = 64 * 1024**2


def current():
    return distribution_lib.distribution()


def _mesh(dist):
    return dist.device_mesh.backend_mesh


def replicated(dist):
    return NamedSharding(_mesh(dist), P())


def _batch_axis_size(dist):
    mesh = dist.device_mesh
    return mesh.shape[mesh.axis_names.index(dist.batch_dim_name)]


# ------------------------------------------------------------------ parameter paths --
def _key_name(k):
    for attr in ("key", "name", "idx"):
        if hasattr(k, attr):
            return str(getattr(k, attr))
    return str(k)


def path_prefix(model):
    """Keras 3's variable paths start with the model's name for a Sequential model."""
    return (model.name,) if getattr(model, "_variable_paths_start_with_name", False) else ()


def parameter_paths(model, tree):
    """`{"dense/kernel": leaf}` for a params (or state) tree, in Keras' path format."""
    prefix = path_prefix(model)
    flat = jax.tree_util.tree_flatten_with_path(tree)[0]
    return {"/".join(prefix + tuple(_key_name(k) for k in path)): leaf for path, leaf in flat}


# ---------------------------------------------------------------- variable layouts --
def variable_shardings(model, variables, dist=None, check=True):
    """NamedShardings for `{"params": ..., "state": ...}` by the distribution's layouts."""
    dist = dist or current()
    used = set()

    def layout_for(path, leaf):
        layout = dist.get_variable_layout(path, leaf.shape)
        if isinstance(dist, distribution_lib.ModelParallel):
            key = _matching_key(dist.layout_map, path)
            if key is not None:
                used.add(key)
        _check_layout(dist, path, leaf, layout)
        if check and isinstance(dist, distribution_lib.ModelParallel) and not any(layout.axes):
            nbytes = int(np.prod(leaf.shape)) * np.dtype(leaf.dtype).itemsize
            if nbytes >= LARGE_PARAMETER_BYTES:
                warnings.warn(
                    f"Parameter '{path}' ({nbytes / 2**20:.1f} MiB, shape {tuple(leaf.shape)}) "
                    "is replicated on every device because no LayoutMap key matches it. Add "
                    "a rule for it, e.g. layout_map['" + path + "'] = (..., 'model'), to "
                    "shard it.", stacklevel=4)
        return layout.backend_layout

    out = {}
    for coll in ("params", "state"):
        tree = variables.get(coll, {})
        paths = parameter_paths(model, tree)
        layouts = iter([layout_for(p, leaf) for p, leaf in paths.items()])
        out[coll] = jax.tree_util.tree_map(lambda _: next(layouts), tree)
    for k in variables:
        if k not in out:
            out[k] = jax.tree_util.tree_map(lambda _: replicated(dist), variables[k])
    if check and isinstance(dist, distribution_lib.ModelParallel):
        for key in dist.layout_map:
            if key not in used:
                warnings.warn(
                    f"LayoutMap key '{key}' matches no parameter of model '{model.name}', "
                    "so it shards nothing. Parameter paths look like "
                    f"{list(parameter_paths(model, variables.get('params', {})))[:4]}.",
                    stacklevel=3)
    return out


def _matching_key(layout_map, path):
    keys = list(layout_map)
    if path in keys:
        return path
    matches = [k for k in keys if re.fullmatch(k, path)]
    return matches[0] if matches else None


def _check_layout(dist, path, leaf, layout):
    if len(layout.axes) != len(leaf.shape):
        raise ValueError(
            f"The layout {layout.axes} for parameter '{path}' has {len(layout.axes)} axes, "
            f"but the parameter has shape {tuple(leaf.shape)} ({len(leaf.shape)} axes). "
            "Give one entry (a mesh axis name or None) per parameter axis."
        )
    mesh = dist.device_mesh
    for dim, axis in zip(leaf.shape, layout.axes):
        names = axis if isinstance(axis, tuple) else (axis,)
        size = int(np.prod([mesh.shape[mesh.axis_names.index(a)] for a in names if a]))
        if dim % size:
            raise ValueError(
                f"Parameter '{path}' of shape {tuple(leaf.shape)} cannot be sharded by "
                f"{layout.axes}: axis of size {dim} is not divisible by the {size} devices "
                f"of mesh axis {axis!r}. Change the rule or the mesh shape."
            )


def init_variables(model, spec, key):
    """Initializes `model` directly into its shardings (no full copy on one device).

    This builds the model (the shell): Keras' build record, its weight order included, is
    written from the abstract pass, since a jitted `init` returns its dicts sorted."""
    dist = current()
    init = lambda k: model.init(k, spec)  # noqa: E731
    with build_record.recording():
        abstract = jax.eval_shape(init, key)
    shardings = variable_shardings(model, abstract, dist)
    model._distribution_checked = id(dist)
    return jax.jit(init, out_shardings=shardings)(key)


# ----------------------------------------------------------------- the train state --
def opt_state_shardings(opt_state, params, param_shardings, dist):
    """Optimizer slots take the sharding of their parameter (same path, same shape)."""
    by_path = {}
    for path, leaf in jax.tree_util.tree_flatten_with_path(params)[0]:
        names = tuple(_key_name(k) for k in path)
        by_path[names] = leaf.shape
    shard_by_path = {tuple(_key_name(k) for k in path): s for path, s in
                     jax.tree_util.tree_flatten_with_path(param_shardings)[0]}
    rep = replicated(dist)

    def pick(path, leaf):
        names = tuple(_key_name(k) for k in path)
        best = None
        for i in range(len(names)):
            for j in range(len(names), i, -1):
                sub = names[i:j]
                if sub in by_path and tuple(by_path[sub]) == tuple(getattr(leaf, "shape", ())):
                    if best is None or len(sub) > len(best):
                        best = sub
        return shard_by_path[best] if best is not None else rep

    return jax.tree_util.tree_map_with_path(pick, opt_state)


def train_state_shardings(model, ts, dist=None):
    dist = dist or current()
    checked = model.__dict__.get("_distribution_checked")
    model._distribution_checked = id(dist)
    var = variable_shardings(model, {"params": ts.params, "state": ts.state}, dist,
                             check=checked != id(dist))
    rep = replicated(dist)
    opt = None
    if ts.opt_state is not None:
        opt = opt_state_shardings(ts.opt_state, ts.params, var["params"], dist)
    other = lambda t: jax.tree_util.tree_map(lambda _: rep, t)  # noqa: E731
    return type(ts)(var["params"], var["state"], opt, other(ts.metric_state), other(ts.rng),
                    other(ts.step))


def place(tree, shardings):
    """Puts every leaf of `tree` on its sharding (across processes when there are several)."""
    return jax.tree_util.tree_map(_place, tree, shardings)


def _place(a, sharding):
    if isinstance(a, jax.Array) and a.sharding.is_equivalent_to(sharding, a.ndim):
        return a
    if jax.process_count() == 1:
        return jax.device_put(a, sharding)
    if isinstance(a, jax.Array) and not a.is_fully_addressable:
        return jax.jit(lambda v: v, out_shardings=sharding)(a)
    host = np.asarray(a)
    return jax.make_array_from_callback(host.shape, sharding, lambda index: host[index])


def place_train_state(model, ts):
    """The `TrainState` laid out for the current distribution (unchanged without one)."""
    dist = current()
    if dist is None:
        return ts
    return place(ts, train_state_shardings(model, ts, dist))


def place_variables(model):
    """Moves the model's variables onto their shardings once (fit/evaluate/predict)."""
    dist = current()
    if dist is None or model._variables is None:
        return
    variables = model._variables
    model.variables = place(variables, variable_shardings(model, variables, dist))


# ----------------------------------------------------------------------- programs --
def program_key():
    """Part of a program's cache key: programs are compiled per distribution."""
    dist = current()
    return None if dist is None else id(dist)


def jit_execution(fn, example_ts, model, donate):
    """`jit` of an execution `(ts, ...) -> (ts, logs)` keeping the state's layout."""
    dist = current()
    donate_argnums = (0,) if donate else ()
    if dist is None:
        return jax.jit(fn, donate_argnums=donate_argnums)
    out = (train_state_shardings(model, example_ts, dist), replicated(dist))
    return jax.jit(fn, donate_argnums=donate_argnums, out_shardings=out)


def constrain_batch(batch):
    """Inside a step: lays the batch (leading axis) out on the batch mesh axis."""
    dist = current()
    if dist is None:
        return batch

    def one(a):
        if a is None or not hasattr(a, "ndim") or a.ndim == 0:
            return a
        spec = P(dist.batch_dim_name, *([None] * (a.ndim - 1)))
        return jax.lax.with_sharding_constraint(a, NamedSharding(_mesh(dist), spec))

    return jax.tree_util.tree_map(one, batch)


# --------------------------------------------------------------------------- data --
def check_batch_size(dist, global_batch):
    n = _batch_axis_size(dist)
    if global_batch % n:
        raise ValueError(
            f"The batch size {global_batch} is not divisible by the {n} devices of the "
            f"'{dist.batch_dim_name}' mesh axis, so batches cannot be split evenly. Use a "
            f"batch size that is a multiple of {n} (e.g. {max(n, global_batch // n * n)})."
        )


def local_batch_share(arrays, num_samples):
    """This process's contiguous block of globally-given arrays (several processes)."""
    dist = current()
    count, index = jax.process_count(), jax.process_index()
    if dist is None or count == 1 or not dist.auto_shard_dataset:
        return arrays, num_samples
    if num_samples % count:
        raise ValueError(
            f"The {num_samples} samples cannot be split evenly across {count} processes: "
            f"kerax gives each process a block of the same size. Pass a number of samples "
            f"divisible by {count}, or split the data yourself and set "
            "`auto_shard_dataset=False` on the distribution."
        )
    size = num_samples // count
    block = jax.tree_util.tree_map(lambda a: a[index * size:(index + 1) * size], arrays)
    return block, size


def local_batch_size(global_batch):
    """This process's share of a global batch (several processes)."""
    dist = current()
    check_batch_size(dist, global_batch)
    return global_batch // jax.process_count()


def _process_mesh(dist):
    mesh = _mesh(dist)
    devices = np.array(list(mesh.devices.flat), dtype=object)
    count = jax.process_count()
    return jax.sharding.Mesh(devices.reshape(count, -1), ("process", "local"))


def place_data(data):
    """Device-resident array data: replicated (one process) or per-process blocks."""
    dist = current()
    if dist is None:
        return jax.device_put(data)
    if jax.process_count() == 1:
        return jax.device_put(data, replicated(dist))
    sharding = NamedSharding(_process_mesh(dist), P("process"))
    return jax.tree_util.tree_map(
        lambda a: jax.make_array_from_process_local_data(sharding, np.asarray(a)), data)


def place_plan(idx, mask, local_rows):
    """An execution's `(steps, batch)` index plan, sharded on the batch axis."""
    dist = current()
    if dist is None:
        return idx, mask
    check_batch_size(dist, idx.shape[1] * jax.process_count())
    sharding = NamedSharding(_mesh(dist), P(None, dist.batch_dim_name))
    if jax.process_count() == 1:
        return jax.device_put(idx, sharding), jax.device_put(mask, sharding)
    idx = idx + jax.process_index() * local_rows  # indices into the global data array
    return (jax.make_array_from_process_local_data(sharding, np.asarray(idx, np.int32)),
            jax.make_array_from_process_local_data(sharding, np.asarray(mask)))


def place_batches(batches, mask):
    """Streamed `(steps, batch, ...)` host batches, sharded on the batch axis."""
    dist = current()
    if dist is None:
        return batches, mask
    check_batch_size(dist, mask.shape[1] * jax.process_count())
    sharding = lambda a: NamedSharding(  # noqa: E731
        _mesh(dist), P(None, dist.batch_dim_name, *([None] * (a.ndim - 2))))
    if jax.process_count() == 1:
        put = lambda a: jax.device_put(a, sharding(a))  # noqa: E731
    else:
        put = lambda a: jax.make_array_from_process_local_data(  # noqa: E731
            sharding(a), np.asarray(a))
    return jax.tree_util.tree_map(put, batches), put(np.asarray(mask))


def place_batch(batch):
    """One host batch (any pytree of arrays; None leaves kept), sharded on the batch axis.

    With several processes, `batch` is this process's part of the global batch.
    """
    dist = current()
    if dist is None:
        return batch

    def put(a):
        a = np.asarray(a)
        sharding = NamedSharding(_mesh(dist), P(dist.batch_dim_name, *([None] * (a.ndim - 1))))
        if jax.process_count() == 1:
            return jax.device_put(a, sharding)
        return jax.make_array_from_process_local_data(sharding, a)

    return jax.tree_util.tree_map(put, batch)


def to_host(tree):
    """Device outputs as host arrays; with several processes, this process's rows."""
    if jax.process_count() == 1:
        return tree

    def local(a):
        if not isinstance(a, jax.Array) or a.is_fully_addressable or a.is_fully_replicated:
            return a
        shards = sorted(a.addressable_shards, key=lambda s: [i.start or 0 for i in s.index])
        seen, parts = set(), []
        for s in shards:
            key = tuple((i.start, i.stop) for i in s.index)
            if key not in seen:
                seen.add(key)
                parts.append(np.asarray(s.data))
        return np.concatenate(parts, axis=1)

    return jax.tree_util.tree_map(local, tree)
