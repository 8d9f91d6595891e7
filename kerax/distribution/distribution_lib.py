"""Keras 3's distribution API over `jax.sharding`: meshes, layouts and distributions.

A `DeviceMesh` is a `jax.sharding.Mesh`, a `TensorLayout` a `NamedSharding`'s partition
spec, and a `Distribution` says how parameters and batches are laid out on the mesh.
`fit`/`evaluate`/`predict` read the current distribution and compile their programs with
those shardings (GSPMD inserts the collectives); nothing here uses `jax.pmap`.

Parameter paths: a parameter's path is the `/`-joined keys of the model's `params` tree,
prefixed by the model's name for a `Sequential` model, as Keras 3's `variable.path`:
`"sequential/dense/kernel"` in `Sequential([..., Dense(...)])`, `"dense/kernel"` in a
functional model. `LayoutMap` keys are regular expressions matched against the whole path
(`re.fullmatch`), so `".*dense.*kernel"` matches both.
"""

import collections
import contextlib
import math
import os
import re

import jax
import numpy as np

from kerax.backend import global_state, random_state

DEFAULT_BATCH_DIM_NAME = "batch"
_CURRENT = [None]


def list_devices(device_type=None):
    """All devices of one type, as `"platform:id"` strings (global across processes).

    Args:
        device_type: `"cpu"`, `"gpu"` or `"tpu"`; the default backend's devices if None.

    Example:
    >>> import kerax
    >>> kerax.distribution.list_devices()[0]
    'cpu:0'
    """
    devices = jax.devices(device_type.lower() if device_type else None)
    return [f"{d.platform}:{d.id}" for d in devices]


def get_device_count(device_type=None):
    """The number of devices of one type (global across processes).

    Example:
    >>> import kerax
    >>> kerax.distribution.get_device_count() >= 1
    True
    """
    return jax.device_count(device_type.lower() if device_type else None)


def initialize(job_addresses=None, num_processes=None, process_id=None, **kwargs):
    """Joins this process to a multi-process cluster (wraps `jax.distributed.initialize`).

    Call it first, before any computation, in every process. Arguments default to the
    `KERAS_DISTRIBUTION_JOB_ADDRESSES`, `KERAS_DISTRIBUTION_NUM_PROCESSES` and
    `KERAS_DISTRIBUTION_PROCESS_ID` environment variables, as in Keras 3; on Cloud TPU
    they may all be None. Extra keyword arguments (`coordinator_bind_address`,
    `heartbeat_timeout_seconds`, ...) go to `jax.distributed.initialize`.

    Args:
        job_addresses: the coordinator's `"host:port"` (or a comma-separated list of all
            jobs' addresses, whose first entry is the coordinator).
        num_processes: the number of processes in the cluster.
        process_id: this process's index, `0` being the coordinator.

    Example:
        `kerax.distribution.initialize("10.0.0.1:1234", num_processes=2, process_id=0)`
    """
    env = os.environ
    if job_addresses is None:
        job_addresses = env.get("KERAS_DISTRIBUTION_JOB_ADDRESSES")
    if num_processes is None and "KERAS_DISTRIBUTION_NUM_PROCESSES" in env:
        num_processes = int(env["KERAS_DISTRIBUTION_NUM_PROCESSES"])
    if process_id is None and "KERAS_DISTRIBUTION_PROCESS_ID" in env:
        process_id = int(env["KERAS_DISTRIBUTION_PROCESS_ID"])
    coordinator = job_addresses
    if job_addresses and "," in job_addresses:
        addresses = job_addresses.split(",")
        if num_processes is not None and num_processes != len(addresses):
            raise ValueError(
                f"`job_addresses` lists {len(addresses)} jobs ({job_addresses!r}) but "
                f"num_processes={num_processes}. Pass one address per process, or only "
                "the coordinator's address."
            )
        coordinator = addresses[0]
    jax.distributed.initialize(coordinator_address=coordinator,
                               num_processes=num_processes, process_id=process_id,
                               **kwargs)
    _agree_on_seed()


def _agree_on_seed():
    """Every process draws unseeded weights from process 0's seed (as Keras 3 does)."""
    from jax.experimental import multihost_utils

    if jax.process_count() == 1:
        return
    seed = random_state._STATE["seed"]
    if seed is None:
        seed = int(np.random.SeedSequence().entropy % (2**31))
    random_state.set_global_seed(int(multihost_utils.broadcast_one_to_all(np.int32(seed))))


def _to_device(device):
    if isinstance(device, jax.Device):
        return device
    platform, _, index = str(device).partition(":")
    for d in jax.devices(platform or None):
        if d.id == int(index or 0):
            return d
    raise ValueError(
        f"Device {device!r} was not found. Available devices: {list_devices(platform)}."
    )


class DeviceMesh:
    """A named grid of devices (a `jax.sharding.Mesh`).

    Args:
        shape: the mesh shape, e.g. `(8,)` for data parallel or `(2, 4)`.
        axis_names: one name per mesh axis, e.g. `("batch", "model")`.
        devices: devices (`"cpu:0"` strings or `jax.Device` objects); all devices by default.

    Example:
    >>> import kerax
    >>> mesh = kerax.distribution.DeviceMesh((1,), ["batch"], devices=["cpu:0"])
    >>> mesh.backend_mesh.axis_names
    ('batch',)
    """

    def __init__(self, shape, axis_names, devices=None):
        if not shape or not axis_names:
            raise ValueError(
                f"DeviceMesh needs a non-empty shape and axis_names. Received: shape={shape}, "
                f"axis_names={axis_names}."
            )
        if len(shape) != len(axis_names):
            raise ValueError(
                f"DeviceMesh: shape {tuple(shape)} has {len(shape)} axes but axis_names "
                f"{tuple(axis_names)} has {len(axis_names)}. Give one name per mesh axis."
            )
        devices = np.array(list_devices() if devices is None else devices, dtype=object)
        if math.prod(shape) != devices.size:
            raise ValueError(
                f"DeviceMesh shape {tuple(shape)} needs {math.prod(shape)} devices, but "
                f"{devices.size} were given. Choose a shape whose product is the number of "
                "devices (`kerax.distribution.get_device_count()`)."
            )
        self._shape = tuple(shape)
        self._axis_names = axis_names  # as given, as Keras keeps it (its repr shows a list)
        self._devices = devices.reshape(shape)
        self._backend_mesh = None

    @property
    def shape(self):
        return self._shape

    @property
    def axis_names(self):
        return self._axis_names

    @property
    def devices(self):
        return self._devices

    @property
    def backend_mesh(self):
        """The `jax.sharding.Mesh`."""
        if self._backend_mesh is None:
            devices = np.array([_to_device(d) for d in self._devices.flat], dtype=object)
            self._backend_mesh = jax.sharding.Mesh(devices.reshape(self._shape),
                                                   tuple(self._axis_names))
        return self._backend_mesh

    def __repr__(self):
        return f"<DeviceMesh shape={self.shape}, axis_names={self.axis_names}>"


class TensorLayout:
    """How one tensor is laid out on a mesh: a mesh axis name (or None) per tensor axis.

    Args:
        axes: one entry per tensor axis: a mesh axis name to shard on, or None.
        device_mesh: the `DeviceMesh` (a `LayoutMap` fills it in).

    Example:
    >>> import kerax
    >>> mesh = kerax.distribution.DeviceMesh((1,), ["model"], devices=["cpu:0"])
    >>> kerax.distribution.TensorLayout((None, "model"), mesh).backend_layout.spec
    P(None, 'model')
    """

    def __init__(self, axes, device_mesh=None):
        self._axes = tuple(axes)
        self._device_mesh = device_mesh
        self._validate_axes()

    @property
    def axes(self):
        return self._axes

    @property
    def device_mesh(self):
        return self._device_mesh

    @device_mesh.setter
    def device_mesh(self, device_mesh):
        if self._device_mesh is not None:
            raise ValueError(f"This TensorLayout already has a device mesh: {self._device_mesh}.")
        self._device_mesh = device_mesh
        self._validate_axes()

    def _validate_axes(self):
        if self._device_mesh is None:
            return
        valid = set(self._device_mesh.axis_names)
        used = {a for axis in self._axes if axis is not None
                for a in (axis if isinstance(axis, tuple) else (axis,))}
        if used - valid:
            raise ValueError(
                f"TensorLayout axes {self._axes} name mesh axes {sorted(used - valid)} that "
                f"the mesh does not have. The mesh's axis names are {self._device_mesh.axis_names}."
            )

    @property
    def backend_layout(self):
        """The `jax.sharding.NamedSharding`."""
        if self._device_mesh is None:
            raise ValueError(
                "This TensorLayout has no device mesh. Pass `device_mesh=` or add it to a "
                "`LayoutMap`."
            )
        return jax.sharding.NamedSharding(self._device_mesh.backend_mesh,
                                          jax.sharding.PartitionSpec(*self._axes))

    def __repr__(self):
        return f"<TensorLayout axes={self.axes}, device_mesh={self.device_mesh}>"


class LayoutMap(collections.abc.MutableMapping):
    """Regex rules from parameter paths to `TensorLayout`s (Keras 3's `LayoutMap`).

    A key is a regular expression matched against the whole parameter path (see the
    module docstring for the path format); a tuple of axis names is turned into a
    `TensorLayout` on this map's mesh. Looking up a path returns the layout of the exact
    key, else of the one key that fully matches, else None.

    Example:
    >>> import kerax
    >>> mesh = kerax.distribution.DeviceMesh((1,), ["model"], devices=["cpu:0"])
    >>> layout_map = kerax.distribution.LayoutMap(mesh)
    >>> layout_map[".*dense.*kernel"] = (None, "model")
    >>> layout_map["sequential/dense_1/kernel"].axes
    (None, 'model')
    >>> layout_map["sequential/dense_1/bias"] is None
    True
    """

    def __init__(self, device_mesh):
        self._layout_map = collections.OrderedDict()
        self._device_mesh = device_mesh

    def __getitem__(self, key):
        if key in self._layout_map:
            return self._layout_map[key]
        matches = [p for p in self._layout_map if re.fullmatch(p, key)]
        if len(matches) > 1:
            raise ValueError(
                f"Path '{key}' matches several LayoutMap keys: {matches}. Make each "
                "parameter path match at most one key."
            )
        return self._layout_map[matches[0]] if matches else None

    def __setitem__(self, key, layout):
        if key in self._layout_map:
            raise ValueError(
                f"'{key}' is already in the LayoutMap (with {self._layout_map[key]}). Use a "
                "different key, or delete the old one first."
            )
        if isinstance(layout, (tuple, list)):
            layout = TensorLayout(tuple(layout))
        if not isinstance(layout, TensorLayout):
            raise ValueError(
                f"A LayoutMap value must be a TensorLayout or a tuple of mesh axis names "
                f"(None for a replicated axis). Received: {layout!r}."
            )
        if layout.device_mesh is None and self._device_mesh is not None:
            layout.device_mesh = self._device_mesh
        self._layout_map[key] = layout

    def __delitem__(self, key):
        return self._layout_map.pop(key)

    def __len__(self):
        return len(self._layout_map)

    def __iter__(self):
        return iter(self._layout_map)

    @property
    def device_mesh(self):
        return self._device_mesh


class Distribution:
    """Base class: a mesh, the batch axis name, and a layout for each parameter."""

    def __init__(self, device_mesh, batch_dim_name=None, auto_shard_dataset=True):
        self._device_mesh = device_mesh
        self._batch_dim_name = batch_dim_name
        self.auto_shard_dataset = auto_shard_dataset
        self._num_processes = jax.process_count()
        self._process_id = jax.process_index()

    @property
    def device_mesh(self):
        return self._device_mesh

    @property
    def batch_dim_name(self):
        return self._batch_dim_name

    @property
    def num_processes(self):
        return self._num_processes

    @property
    def num_model_replicas(self):
        """The size of the batch axis of the mesh."""
        names = self._device_mesh.axis_names
        return self._device_mesh.shape[names.index(self._batch_dim_name)]

    def get_data_layout(self, data_shape):
        """The layout of a batch: sharded on its first axis over the batch mesh axis."""
        axes = [None] * len(data_shape)
        axes[0] = self._batch_dim_name
        return TensorLayout(axes, self._device_mesh)

    def get_variable_layout(self, path, shape):
        """The layout of the parameter at `path` (replicated unless a subclass says)."""
        return TensorLayout([None] * len(shape), self._device_mesh)

    def get_tensor_layout(self, path):
        return None

    @contextlib.contextmanager
    def scope(self):
        """Makes this the current distribution inside a `with` block.

        Example:
        >>> import kerax
        >>> dist = kerax.distribution.DataParallel(devices=["cpu:0"])
        >>> with dist.scope():
        ...     kerax.distribution.distribution() is dist
        True
        >>> kerax.distribution.distribution() is None
        True
        """
        previous = distribution()
        set_distribution(self)
        try:
            yield self
        finally:
            set_distribution(previous)

    def __repr__(self):
        return f"<{type(self).__name__} device_mesh={self._device_mesh}>"


class DataParallel(Distribution):
    """Replicates the parameters on every device and splits each batch across them.

    Args:
        device_mesh: a 1D `DeviceMesh` (its first axis is the batch axis).
        devices: devices for a 1D mesh; all devices when neither is given.
        auto_shard_dataset: split the input data across processes (default True).

    Example:
    >>> import kerax
    >>> dist = kerax.distribution.DataParallel()
    >>> dist.batch_dim_name, dist.num_model_replicas == kerax.distribution.get_device_count()
    ('batch', True)
    """

    def __init__(self, device_mesh=None, devices=None, auto_shard_dataset=True):
        if device_mesh is not None:
            if not isinstance(device_mesh, DeviceMesh):
                raise ValueError(
                    f"`device_mesh` must be a kerax.distribution.DeviceMesh. Received: "
                    f"{type(device_mesh).__name__}."
                )
            super().__init__(device_mesh, device_mesh.axis_names[0], auto_shard_dataset)
            return
        devices = np.array(list_devices() if not devices else devices, dtype=object)
        mesh = DeviceMesh(devices.shape, [DEFAULT_BATCH_DIM_NAME], devices)
        super().__init__(mesh, DEFAULT_BATCH_DIM_NAME, auto_shard_dataset)


class ModelParallel(Distribution):
    """Shards parameters by a `LayoutMap` and batches over the batch mesh axis.

    Parameters that match no `LayoutMap` key are replicated. FSDP-style sharding is a
    rule that shards large kernels over the batch axis too, e.g. `("batch", None)`.

    Args:
        layout_map: the `LayoutMap` (its mesh is the distribution's mesh).
        batch_dim_name: the mesh axis that splits batches (default: the first).
        auto_shard_dataset: split the input data across processes (default True).

    Example:
    >>> import kerax
    >>> mesh = kerax.distribution.DeviceMesh((1, 1), ["batch", "model"], ["cpu:0"])
    >>> layout_map = kerax.distribution.LayoutMap(mesh)
    >>> layout_map[".*kernel"] = (None, "model")
    >>> dist = kerax.distribution.ModelParallel(layout_map=layout_map, batch_dim_name="batch")
    >>> dist.get_variable_layout("dense/kernel", (4, 2)).axes
    (None, 'model')
    """

    def __init__(self, *, layout_map=None, batch_dim_name=None, auto_shard_dataset=True,
                 **kwargs):
        kwargs.pop("device_mesh", None)
        if not isinstance(layout_map, LayoutMap):
            raise ValueError(
                "ModelParallel needs `layout_map=` a kerax.distribution.LayoutMap. "
                f"Received: {layout_map!r}."
            )
        mesh = layout_map.device_mesh
        batch_dim_name = batch_dim_name or mesh.axis_names[0]
        if batch_dim_name not in mesh.axis_names:
            raise ValueError(
                f"batch_dim_name={batch_dim_name!r} is not an axis of the mesh, whose axes "
                f"are {mesh.axis_names}."
            )
        super().__init__(mesh, batch_dim_name, auto_shard_dataset)
        self._layout_map = layout_map

    @property
    def layout_map(self):
        return self._layout_map

    def get_variable_layout(self, path, shape):
        layout = self._layout_map[path]
        if layout is None:
            return super().get_variable_layout(path, shape)
        return layout

    def get_tensor_layout(self, path):
        return self._layout_map[path]


def distribute_tensor(tensor, layout):
    """Lays a tensor out by `layout` (a constraint inside `jit`, a transfer outside).

    Args:
        tensor: an array.
        layout: a `TensorLayout` or a `jax.sharding.Sharding`.

    Example:
    >>> import jax.numpy as jnp, kerax
    >>> mesh = kerax.distribution.DeviceMesh((1,), ["batch"], devices=["cpu:0"])
    >>> layout = kerax.distribution.TensorLayout(("batch", None), mesh)
    >>> kerax.distribution.distribute_tensor(jnp.ones((2, 3)), layout).sharding.spec
    P('batch', None)
    """
    sharding = layout.backend_layout if isinstance(layout, TensorLayout) else layout
    if isinstance(tensor, jax.core.Tracer):
        return jax.lax.with_sharding_constraint(tensor, sharding)
    return jax.device_put(tensor, sharding)


def distribution():
    """The current distribution (None when training on one device).

    Example:
    >>> import kerax
    >>> kerax.distribution.distribution() is None
    True
    """
    return _CURRENT[0]


def set_distribution(value):
    """Sets the current distribution for `fit`, `evaluate`, `predict` (None to unset).

    Example:
    >>> import kerax
    >>> kerax.distribution.set_distribution(kerax.distribution.DataParallel())
    >>> kerax.distribution.set_distribution(None)
    """
    if value is not None and not isinstance(value, Distribution):
        raise ValueError(
            "set_distribution() takes a kerax.distribution.DataParallel, ModelParallel "
            f"or None. Received: {value!r}."
        )
    _CURRENT[0] = value


global_state.register_reset(lambda: set_distribution(None))
