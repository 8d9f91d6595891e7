"""`kerax.callbacks`: Keras 3's callbacks."""

from kerax import _exports
from kerax.callbacks.backup_and_restore import BackupAndRestore  # noqa: F401
from kerax.callbacks.callback import Callback  # noqa: F401
from kerax.callbacks.callback_list import CallbackList  # noqa: F401
from kerax.callbacks.csv_logger import CSVLogger  # noqa: F401
from kerax.callbacks.early_stopping import EarlyStopping  # noqa: F401
from kerax.callbacks.history import History  # noqa: F401
from kerax.callbacks.lambda_callback import LambdaCallback  # noqa: F401
from kerax.callbacks.learning_rate_scheduler import LearningRateScheduler  # noqa: F401
from kerax.callbacks.model_checkpoint import ModelCheckpoint  # noqa: F401
from kerax.callbacks.monitor_callback import MonitorCallback  # noqa: F401
from kerax.callbacks.orbax_checkpoint import OrbaxCheckpoint  # noqa: F401
from kerax.callbacks.progbar_logger import ProgbarLogger  # noqa: F401
from kerax.callbacks.reduce_lr_on_plateau import ReduceLROnPlateau  # noqa: F401
from kerax.callbacks.swap_ema_weights import SwapEMAWeights  # noqa: F401
from kerax.callbacks.tensorboard import TensorBoard  # noqa: F401
from kerax.callbacks.terminate_on_nan import TerminateOnNaN  # noqa: F401

__all__ = _exports.public_names(globals())
