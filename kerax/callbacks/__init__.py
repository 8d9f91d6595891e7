"""`kerax.callbacks`: Keras 3's callbacks."""

from kerax.callbacks.callback import Callback  # noqa: F401
from kerax.callbacks.callback_list import CallbackList  # noqa: F401
from kerax.callbacks.history import History  # noqa: F401
from kerax.callbacks.progbar_logger import ProgbarLogger  # noqa: F401
from kerax.callbacks.terminate_on_nan import TerminateOnNaN  # noqa: F401
