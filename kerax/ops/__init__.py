"""`kerax.ops`: Keras 3's backend-agnostic ops, as thin functions over JAX.

The names, arguments and result dtypes follow `keras.ops`; the submodules `numpy`, `nn`,
`linalg`, `image` and `math` mirror Keras' layout.

Example:
>>> import kerax
>>> kerax.ops.sum(kerax.ops.ones((2, 3)))
Array(6., dtype=float32)
"""

from kerax import _exports
from kerax.ops import numpy  # noqa: F401
from kerax.ops.core import (  # noqa: F401
    associative_scan,
    cast,
    cond,
    convert_to_numpy,
    convert_to_tensor,
    custom_gradient,
    dtype,
    fori_loop,
    is_tensor,
    map,
    rearrange,
    saturate_cast,
    scan,
    scatter,
    scatter_update,
    shape,
    slice,
    slice_update,
    stop_gradient,
    switch,
    unstack,
    vectorized_map,
    while_loop,
)
from kerax.ops.numpy import *  # noqa: F401,F403,E402
from kerax.ops import image, linalg, math, nn  # noqa: F401,E402
from kerax.ops.linalg import *  # noqa: F401,F403,E402
from kerax.ops.math import *  # noqa: F401,F403,E402
from kerax.ops.nn import *  # noqa: F401,F403,E402
from kerax.ops import symbolic as _symbolic  # noqa: E402

_symbolic.install()  # ops called on `KerasTensor`s record functional-graph nodes

__all__ = _exports.public_names(globals())
