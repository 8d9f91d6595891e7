"""`kerax.distribution`: Keras 3's data and model parallel API on `jax.sharding`."""

from kerax import _exports
from kerax.distribution.distribution_lib import (
    DataParallel,
    DeviceMesh,
    Distribution,
    LayoutMap,
    ModelParallel,
    TensorLayout,
    distribute_tensor,
    distribution,
    get_device_count,
    initialize,
    list_devices,
    set_distribution,
)
from kerax.distribution.memory import memory_report
from kerax.distribution.placement import parameter_paths

__all__ = _exports.public_names(globals())
