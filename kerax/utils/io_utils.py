"""`print_msg` and the interactive-logging switch, as in Keras' `io_utils`."""

import sys
import threading

_STATE = threading.local()


def enable_interactive_logging():
    """Sends kerax's messages (downloads, progress) to stdout (the default)."""
    _STATE.interactive = True


def disable_interactive_logging():
    """Sends kerax's messages to the `logging` module instead of stdout.

    Example:
    >>> disable_interactive_logging()
    >>> is_interactive_logging_enabled()
    False
    >>> enable_interactive_logging()
    """
    _STATE.interactive = False


def is_interactive_logging_enabled():
    """Whether messages are printed to stdout (`True`) or logged (`False`)."""
    return getattr(_STATE, "interactive", True)


def print_msg(message, line_break=True):
    """Prints `message` to stdout, or logs it when interactive logging is off.

    Example:
    >>> print_msg("hello")
    hello
    """
    if is_interactive_logging_enabled():
        sys.stdout.write(message + ("\n" if line_break else ""))
        sys.stdout.flush()
    else:
        import logging

        logging.getLogger("kerax").info(message)
