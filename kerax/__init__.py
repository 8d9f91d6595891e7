"""kerax: Keras 3 for JAX, built the JAX way.

`import kerax as keras` runs Keras 3 programs; every layer and model is also a pair of
pure functions (`init` / `apply`) over explicit parameter pytrees.

Example:
>>> import kerax as keras
>>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
>>> model.compile(optimizer="adam", loss="mse")
"""

__version__ = "0.1.0"

from kerax import _exports  # noqa: F401
from kerax import activations  # noqa: F401
from kerax import applications  # noqa: F401
from kerax import backend  # noqa: F401
from kerax import callbacks  # noqa: F401
from kerax import checkpoint  # noqa: F401
from kerax import config  # noqa: F401
from kerax import constraints  # noqa: F401
from kerax import datasets  # noqa: F401
from kerax import distribution  # noqa: F401
from kerax import dtype_policies  # noqa: F401
from kerax import errors  # noqa: F401
from kerax import export  # noqa: F401
from kerax import initializers  # noqa: F401
from kerax import layers  # noqa: F401
from kerax import losses  # noqa: F401
from kerax import metrics  # noqa: F401
from kerax import mixed_precision  # noqa: F401
from kerax import models  # noqa: F401
from kerax import ops  # noqa: F401
from kerax import optimizers  # noqa: F401
from kerax import random  # noqa: F401
from kerax import regularizers  # noqa: F401
from kerax import saving  # noqa: F401
from kerax import tree  # noqa: F401
from kerax import utils  # noqa: F401
from kerax.backend.device_scope import device  # noqa: F401
from kerax.backend.keras_tensor import KerasTensor  # noqa: F401
from kerax.backend.name_scope import name_scope  # noqa: F401
from kerax.backend.remat import RematScope, remat  # noqa: F401
from kerax.dtype_policies import DTypePolicy, FloatDTypePolicy  # noqa: F401
from kerax.initializers import Initializer  # noqa: F401
from kerax.layers import Input, InputSpec, Layer  # noqa: F401
from kerax.losses import Loss  # noqa: F401
from kerax.metrics import Metric  # noqa: F401
from kerax.models import Model, Sequential  # noqa: F401
from kerax.optimizers import Optimizer  # noqa: F401
from kerax.regularizers import Regularizer  # noqa: F401


def version():
    """The kerax version string."""
    return __version__

__all__ = _exports.public_names(globals())
