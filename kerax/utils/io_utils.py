"""`print_msg` and the interactive-logging switch, as in Keras' `io_utils`."""

import sys

from kerax.backend.switches import (  # noqa: F401  (one switch, shared with kerax.config)
    disable_interactive_logging,
    enable_interactive_logging,
    is_interactive_logging_enabled,
)


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
