"""kerax: Keras 3 for JAX, built the JAX way.

`import kerax as keras` runs Keras 3 programs; every layer and model is also a pair of
pure functions (`init` / `apply`) over explicit parameter pytrees.
"""

__version__ = "0.1.0"

from kerax import activations  # noqa: F401
from kerax import backend  # noqa: F401
from kerax import config  # noqa: F401
from kerax import errors  # noqa: F401
from kerax import initializers  # noqa: F401
from kerax import losses  # noqa: F401
from kerax import metrics  # noqa: F401
from kerax import optimizers  # noqa: F401
from kerax import saving  # noqa: F401
from kerax import utils  # noqa: F401
from kerax import callbacks  # noqa: F401
from kerax import layers  # noqa: F401
from kerax import models  # noqa: F401
from kerax.layers import Input  # noqa: F401
from kerax.models import Model, Sequential  # noqa: F401
from kerax import datasets  # noqa: F401
