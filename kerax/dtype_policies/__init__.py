"""`kerax.dtype_policies`: Keras 3's dtype policies (mixed precision)."""

from kerax import _exports
from kerax.dtype_policies.dtype_policy import (  # noqa: F401
    DTypePolicy,
    FloatDTypePolicy,
    deserialize,
    dtype_policy,
    get,
    serialize,
    set_dtype_policy,
)

__all__ = _exports.public_names(globals())
