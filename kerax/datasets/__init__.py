"""`kerax.datasets`: Keras' built-in datasets, as NumPy arrays (no TensorFlow).

Files are downloaded once from the same origins Keras uses, checked against the same
hashes, and cached under `$KERAX_HOME/datasets` (default `~/.kerax/datasets`).
"""

from kerax import _exports
from kerax.datasets import boston_housing  # noqa: F401
from kerax.datasets import california_housing  # noqa: F401
from kerax.datasets import cifar10  # noqa: F401
from kerax.datasets import cifar100  # noqa: F401
from kerax.datasets import fashion_mnist  # noqa: F401
from kerax.datasets import imdb  # noqa: F401
from kerax.datasets import mnist  # noqa: F401
from kerax.datasets import reuters  # noqa: F401

__all__ = _exports.public_names(globals())
