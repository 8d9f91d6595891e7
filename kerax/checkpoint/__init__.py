"""`kerax.checkpoint`: atomic, checksummed training checkpoints on orbax-checkpoint."""

from kerax.checkpoint.checkpoint_manager import CheckpointManager  # noqa: F401
