"""Process-wide switches behind `kerax.config`: logging, tracebacks, limits, determinism."""

import os
import warnings

from kerax.backend import global_state, random_state

_STATE = {"interactive_logging": True, "max_epochs": None, "max_steps_per_epoch": None,
          "deterministic": False}


def enable_interactive_logging():
    """Progress bars redraw in place on a terminal (the default)."""
    _STATE["interactive_logging"] = True


global_state.register_reset(enable_interactive_logging)


def disable_interactive_logging():
    """Progress output becomes plain lines, even on a terminal (for log files).

    Example:
    >>> import kerax
    >>> kerax.config.disable_interactive_logging()
    >>> kerax.config.is_interactive_logging_enabled()
    False
    >>> kerax.config.enable_interactive_logging()
    """
    _STATE["interactive_logging"] = False


def is_interactive_logging_enabled():
    return _STATE["interactive_logging"]


def enable_traceback_filtering():
    """Hides JAX's internal frames in tracebacks (JAX's default)."""
    import jax

    jax.config.update("jax_traceback_filtering", "auto")


def disable_traceback_filtering():
    """Shows full tracebacks, JAX internals included."""
    import jax

    jax.config.update("jax_traceback_filtering", "off")


def is_traceback_filtering_enabled():
    import jax

    return jax.config.jax_traceback_filtering != "off"


def set_max_epochs(max_epochs):
    """Caps the number of epochs of every `fit` (handy for smoke tests)."""
    _STATE["max_epochs"] = max_epochs


def max_epochs():
    return _STATE["max_epochs"]


def set_max_steps_per_epoch(max_steps_per_epoch):
    """Caps the steps per epoch of every `fit` (handy for smoke tests)."""
    _STATE["max_steps_per_epoch"] = max_steps_per_epoch


def max_steps_per_epoch():
    return _STATE["max_steps_per_epoch"]


def enable_determinism(seed=None):
    """Makes training bit-reproducible for the same seed, versions and device count.

    Sets XLA's deterministic-ops flag for GPUs (XLA:CPU and TPU are deterministic already)
    and, when `seed` is given, seeds Python, NumPy and kerax's key source. Call it before
    JAX first uses a GPU; a later call warns that the flag cannot take effect.

    Example:
    >>> import kerax
    >>> kerax.config.enable_determinism(seed=0)
    >>> kerax.config.is_determinism_enabled()
    True
    """
    flag = "--xla_gpu_deterministic_ops=true"
    flags = os.environ.get("XLA_FLAGS", "")
    if flag not in flags:
        os.environ["XLA_FLAGS"] = (flags + " " + flag).strip()
        try:
            from jax._src import xla_bridge

            if xla_bridge.backends_are_initialized() and any(
                    b in xla_bridge.backends() for b in ("cuda", "rocm", "gpu")):
                warnings.warn("enable_determinism() was called after JAX initialized its GPU "
                              "backend; call it first thing in the program.", stacklevel=2)
        except Exception:
            pass
    _STATE["deterministic"] = True
    if seed is not None:
        random_state.set_random_seed(seed)


def is_determinism_enabled():
    return _STATE["deterministic"]
