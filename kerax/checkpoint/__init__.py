"""`kerax.checkpoint`: atomic, checksummed training checkpoints on orbax-checkpoint."""

from kerax import _exports
from kerax.checkpoint.checkpoint_manager import CheckpointManager  # noqa: F401

__all__ = _exports.public_names(globals())
