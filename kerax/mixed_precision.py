"""`kerax.mixed_precision`: Keras 3's mixed-precision entry points.

Example:
>>> import kerax
>>> kerax.mixed_precision.set_global_policy("mixed_bfloat16")
>>> kerax.mixed_precision.global_policy().compute_dtype
'bfloat16'
>>> kerax.mixed_precision.set_global_policy("float32")
"""

from kerax import _exports
from kerax.dtype_policies.dtype_policy import (  # noqa: F401
    DTypePolicy,
    dtype_policy,
    global_policy,
    set_dtype_policy,
    set_global_policy,
)
from kerax.optimizers.loss_scale_optimizer import LossScaleOptimizer  # noqa: F401

Policy = DTypePolicy

__all__ = _exports.public_names(globals())
