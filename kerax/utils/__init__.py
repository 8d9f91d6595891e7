"""`kerax.utils`: Keras' utilities."""

from kerax.utils.rng_utils import set_random_seed  # noqa: F401
