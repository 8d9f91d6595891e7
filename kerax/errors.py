"""kerax's error classes, in one place.

Every message names what was wrong, what was expected, what was received, and the fix.
"""


class KeraxError(Exception):
    """Base class of kerax's own errors."""


class LayerShapeError(KeraxError, ValueError):
    """An input's rank or shape does not fit the layer."""


class NotCompiledError(KeraxError, ValueError, RuntimeError):
    """A method that needs `compile()` was called first.

    A `ValueError`, as Keras 3 raises there (so `except ValueError` code ports), and a
    `RuntimeError` for code written against earlier kerax versions.
    """


class NonFiniteLossError(KeraxError, FloatingPointError):
    """The training loss became NaN or infinite; the step was not applied."""


class UnknownIdentifierError(KeraxError, ValueError):
    """A string identifier (optimizer, loss, metric, activation, ...) is not known."""


class UnsafeModelError(KeraxError, ValueError):
    """Loading would run code from the file; pass `safe_mode=False` only for files you trust."""


class CheckpointCorruptedError(KeraxError, OSError):
    """A checkpoint or saved file is truncated or does not match its checksums."""


class WeightsMismatchError(KeraxError, ValueError):
    """A weights file is intact but holds arrays for another architecture."""


def unknown_identifier(kind, identifier, known):
    """Builds an `UnknownIdentifierError` listing close matches.

    Example:
    >>> err = unknown_identifier("loss", "mse_", ["mse", "mae"])
    >>> "Did you mean" in str(err)
    True
    """
    import difflib

    known = sorted(set(known))
    close = difflib.get_close_matches(str(identifier), known, n=3, cutoff=0.5)
    hint = f" Did you mean: {', '.join(repr(c) for c in close)}?" if close else ""
    return UnknownIdentifierError(
        f"Unknown {kind} identifier: {identifier!r}.{hint}\n"
        f"Known {kind} identifiers: {', '.join(known)}."
    )
