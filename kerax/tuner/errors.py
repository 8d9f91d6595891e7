"""keras-tuner's error classes: a `FailedTrialError` fails one trial, a `FatalError` stops
the search."""


class FailedTrialError(Exception):
    """Raise inside `build` or `run_trial` to mark the trial FAILED without retrying."""


class FatalError(Exception):
    """Raised errors of this kind end the search instead of failing one trial."""


class FatalValueError(FatalError, ValueError):
    pass


class FatalTypeError(FatalError, TypeError):
    pass


class FatalRuntimeError(FatalError, RuntimeError):
    pass
