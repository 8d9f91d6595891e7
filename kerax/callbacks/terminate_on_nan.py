from kerax.callbacks.callback import Callback


class TerminateOnNaN(Callback):
    """Stops training (without an error) when the loss becomes NaN or infinite.

    kerax checks every step on the device: the bad step and all later ones are not
    applied, so the model keeps its weights from before the first non-finite loss.
    Without this callback `fit` raises `kerax.errors.NonFiniteLossError` instead.

    Example:
    >>> import kerax
    >>> cb = kerax.callbacks.TerminateOnNaN()
    """
