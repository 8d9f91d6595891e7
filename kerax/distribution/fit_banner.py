"""The line `fit` prints (when verbose) before training on several devices."""

import jax

from kerax.distribution import distribution_lib


def fit_banner(global_batch=None, dist=None):
    """`fit`'s line about the devices, the mesh and the batch; None on one device.

    `batch_size` in `fit` is the global batch: it is split over the mesh's batch axis, so
    each device computes on `global_batch / (size of that axis)` rows.

    Example:
    >>> fit_banner(32) is None  # no distribution set: one device
    True
    """
    dist = dist if dist is not None else distribution_lib.distribution()
    if dist is None or dist.device_mesh.devices.size < 2:
        return None
    mesh = dist.device_mesh
    platform = mesh.devices.flat[0]
    platform = getattr(platform, "platform", str(platform).split(":")[0])
    axes = ", ".join(f"'{n}': {s}" for n, s in zip(mesh.axis_names, mesh.shape))
    line = (f"{type(dist).__name__} on {mesh.devices.size} {platform} devices, mesh "
            f"{{{axes}}}")
    if global_batch:
        global_batch *= jax.process_count()
        per_device = global_batch // dist.num_model_replicas
        line += (f"; global batch {global_batch}, {per_device} per device (split over "
                 f"'{dist.batch_dim_name}')")
    return line
