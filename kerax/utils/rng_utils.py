"""`set_random_seed`: one call makes a whole kerax program reproducible."""

from kerax.backend.random_state import set_random_seed  # noqa: F401
