"""JAX's persistent compilation cache, on by default, and counting what gets compiled.

The first `fit`/`evaluate`/`predict` of a process points JAX's persistent compilation
cache at a user directory (`$KERAX_HOME/jax_cache`, else `~/.cache/kerax/jax_cache`),
so a second run of the same program loads its executables from disk instead of compiling
them again. A cache directory the user configured themselves is left alone. Opt out with
`KERAX_COMPILATION_CACHE=0` in the environment or `disable_compilation_cache()`.

`track()` counts the XLA compilations (and persistent-cache hits) inside a block, from
JAX's own monitoring events; `fit` uses it to report compiles per epoch when
`KERAX_LOG_COMPILES=1` or `set_log_compiles(True)`.
"""

import contextlib
import os
import threading

import jax
from jax import monitoring

ENV_SWITCH = "KERAX_COMPILATION_CACHE"
ENV_LOG = "KERAX_LOG_COMPILES"
_BACKEND_COMPILE = "/jax/core/compile/backend_compile_duration"
_CACHE_HIT = "/jax/compilation_cache/cache_hits"
# Programs that compile faster than this are not worth a disk entry (JAX's default: 1 s).
_MIN_COMPILE_SECONDS = 0.5
_FALSY = ("0", "false", "no", "off", "")

_STATE = {"enabled": None, "dir": None, "configured": False, "log": None}
_LOCK = threading.Lock()


def default_cache_dir():
    """The directory kerax uses for compiled programs: `$KERAX_HOME/jax_cache` or
    `~/.cache/kerax/jax_cache`.

    Example:
    >>> from kerax.trainer import compile_cache
    >>> compile_cache.default_cache_dir().endswith("jax_cache")
    True
    """
    home = os.environ.get("KERAX_HOME") or os.path.join(
        os.path.expanduser("~"), ".cache", "kerax")
    return os.path.join(home, "jax_cache")


def enable_compilation_cache(path=None):
    """Turns kerax's persistent compilation cache on (the default), in `path` if given.

    Takes effect at the next `fit`/`evaluate`/`predict`, unless the JAX cache directory
    was already configured (by the user or an earlier call): JAX reads it once.

    Example:
    >>> from kerax.trainer import compile_cache
    >>> compile_cache.enable_compilation_cache()
    >>> compile_cache.is_compilation_cache_enabled()
    True
    """
    if path is not None and not isinstance(path, (str, os.PathLike)):
        raise TypeError(
            "`path` must be a directory path (str or os.PathLike) or None for the default "
            f"({default_cache_dir()}). Received: path={path!r} of type {type(path).__name__}."
        )
    _STATE["enabled"] = True
    _STATE["dir"] = None if path is None else os.fspath(path)


def disable_compilation_cache():
    """Keeps kerax from turning on JAX's persistent compilation cache.

    Example:
    >>> from kerax.trainer import compile_cache
    >>> compile_cache.disable_compilation_cache()
    >>> compile_cache.is_compilation_cache_enabled()
    False
    >>> compile_cache.enable_compilation_cache()
    """
    _STATE["enabled"] = False


def is_compilation_cache_enabled():
    """Whether kerax will turn the cache on: `enable/disable_compilation_cache`, else the
    `KERAX_COMPILATION_CACHE` environment variable (on unless `0`/`false`/`off`)."""
    if _STATE["enabled"] is not None:
        return _STATE["enabled"]
    return os.environ.get(ENV_SWITCH, "1").strip().lower() not in _FALSY


def ensure_configured():
    """Points JAX's persistent cache at kerax's directory, once, before kerax compiles.

    Does nothing when disabled, or when `jax_compilation_cache_dir` is already set (the
    user's choice wins). Returns the cache directory in use, or None.

    Example:
    >>> from kerax.trainer import compile_cache
    >>> path = compile_cache.ensure_configured()
    """
    current = jax.config.jax_compilation_cache_dir
    if _STATE["configured"] or current or not is_compilation_cache_enabled():
        return current or None
    with _LOCK:
        if _STATE["configured"]:
            return jax.config.jax_compilation_cache_dir
        _STATE["configured"] = True
        path = _STATE["dir"] or default_cache_dir()
        try:
            os.makedirs(path, exist_ok=True)
        except OSError:  # an unwritable home: run without the cache rather than fail
            return None
        jax.config.update("jax_compilation_cache_dir", path)
        if jax.config.jax_persistent_cache_min_compile_time_secs == 1.0:  # JAX's default
            jax.config.update("jax_persistent_cache_min_compile_time_secs",
                              _MIN_COMPILE_SECONDS)
        return path


# ----------------------------------------------------------------------- counting --
class CompileStats:
    """What was compiled inside a `track()` block.

    Attributes:
        compiles: XLA compilations requested (persistent-cache hits included).
        cache_hits: those that were loaded from the persistent cache.
        seconds: wall time spent in them.
    """

    def __init__(self):
        self.compiles = 0
        self.cache_hits = 0
        self.seconds = 0.0

    def __repr__(self):
        return (f"CompileStats(compiles={self.compiles}, cache_hits={self.cache_hits}, "
                f"seconds={self.seconds:.3f})")


_ACTIVE = []
_LISTENING = []


def _on_duration(event, duration, **_):
    if event == _BACKEND_COMPILE:
        for stats in list(_ACTIVE):
            stats.compiles += 1
            stats.seconds += duration


def _on_event(event, **_):
    if event == _CACHE_HIT:
        for stats in list(_ACTIVE):
            stats.cache_hits += 1


def _listen():
    with _LOCK:
        if not _LISTENING:
            monitoring.register_event_duration_secs_listener(_on_duration)
            monitoring.register_event_listener(_on_event)
            _LISTENING.append(True)


@contextlib.contextmanager
def track():
    """Counts the XLA compilations inside the block (all threads).

    Example:
    >>> import jax, numpy as np
    >>> from kerax.trainer import compile_cache
    >>> with compile_cache.track() as stats:
    ...     _ = jax.jit(lambda a: a * 3 + 1)(np.arange(5.0))
    >>> stats.compiles
    1
    """
    _listen()
    stats = CompileStats()
    _ACTIVE.append(stats)
    try:
        yield stats
    finally:
        _ACTIVE.remove(stats)


def set_log_compiles(enabled):
    """Makes `fit` print the compilations of each epoch that compiled anything.

    Example:
    >>> from kerax.trainer import compile_cache
    >>> compile_cache.set_log_compiles(False)
    >>> compile_cache.log_compiles()
    False
    """
    _STATE["log"] = bool(enabled)


def log_compiles():
    """Whether `fit` reports compilations (`set_log_compiles`, else `KERAX_LOG_COMPILES`)."""
    if _STATE["log"] is not None:
        return _STATE["log"]
    return os.environ.get(ENV_LOG, "0").strip().lower() not in _FALSY


def describe(stats, what):
    """One line for the log: `"<what>: compiled 3 XLA programs in 1.20 s (1 from cache)"`."""
    hits = f" ({stats.cache_hits} from the persistent cache)" if stats.cache_hits else ""
    plural = "" if stats.compiles == 1 else "s"
    return f"{what}: compiled {stats.compiles} XLA program{plural} in {stats.seconds:.2f} s{hits}"
