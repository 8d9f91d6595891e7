"""Keras' progress bar: redraws in place on a terminal, plain lines otherwise."""

import math
import os
import re
import shutil
import sys
import time

from kerax.backend import switches

import numpy as np

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def in_notebook():
    """True inside a running Jupyter kernel (not merely when `ipykernel` was imported, as
    a notebook runner in the same process does)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return getattr(shell, "kernel", None) is not None


def is_interactive():
    """True when stdout is a terminal or a notebook (so the bar may redraw in place)."""
    if not switches.is_interactive_logging_enabled():
        return False
    if in_notebook():
        return True
    return hasattr(sys.stdout, "isatty") and sys.stdout.isatty() and os.environ.get(
        "TERM") != "dumb"


def _fmt_value(v):
    v = float(np.mean(np.asarray(v)))
    return f"{v:.4f}" if abs(v) > 1e-3 else f"{v:.4e}"


def _fmt_eta(eta):
    if eta > 3600:
        return "%d:%02d:%02d" % (eta // 3600, (eta % 3600) // 60, eta % 60)
    if eta > 60:
        return "%d:%02d" % (eta // 60, eta % 60)
    return "%ds" % eta


def _fmt_time(seconds):
    if seconds >= 1 or seconds == 0:
        return f"{seconds:.0f}s/step"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/step"
    return f"{seconds * 1e6:.0f}us/step"


class Progbar:
    """Displays a progress bar, as `keras.utils.Progbar`.

    On a terminal (or notebook) the bar redraws in place; on a terminal the line is cut to
    the terminal's width (the bar shrinks first, to half), so a redraw never wraps and scrolls.
    Otherwise (a log file, a pipe) a plain line is written every `log_interval` seconds
    during a long bar and at its end, with no carriage returns, backspaces or escape codes
    (Keras writes every redraw there, with backspaces). Values are read (a device-to-host
    copy) only when a line is drawn.

    Args:
        target: total number of steps expected, or None if unknown.
        width: the bar's width in characters.
        verbose: 1 (bar), 2 (one line at the end), 0 (silent).
        interval: minimum seconds between redraws.
        stateful_metrics: names of values displayed as given (not averaged).
        unit_name: display name for a step.
        interactive: redraw in place (default: when stdout is a terminal or a notebook).
        log_interval: seconds between the lines written when not interactive (verbose=1).

    Example:
    >>> bar = Progbar(2, verbose=0)
    >>> bar.update(1, [("loss", 0.5)])
    >>> bar.update(2, [("loss", 0.25)])
    """

    def __init__(self, target, width=20, verbose=1, interval=0.05, stateful_metrics=None,
                 unit_name="step", interactive=None, log_interval=30.0):
        self.target, self.width, self.verbose = target, width, verbose
        self.interval = interval
        self.stateful_metrics = set(stateful_metrics or [])
        self.unit_name = unit_name
        self.interactive = is_interactive() if interactive is None else interactive
        self.log_interval = log_interval
        self._last_log = None
        self._values = {}
        self._start = time.time()
        self._last_update = 0.0
        self._prev_width = 0
        self._seen = 0

    def update(self, current, values=None, finalize=None):
        """Moves the bar to step `current` with `(name, value)` pairs."""
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        for k, v in values or []:
            self._values[k] = v  # kerax's logs are running means already (stateful)
        self._seen = current
        if self.verbose == 0:
            return
        now = time.time()
        if self.verbose == 1 and self.interactive:
            if now - self._last_update < self.interval and not finalize:
                return
            line, visible = self._fitted_line(current, now, finalize)
            pad = " " * max(0, self._prev_width - visible)
            sys.stdout.write("\r" + line + pad + ("\n" if finalize else ""))
            sys.stdout.flush()
            self._prev_width = visible
            self._last_update = now
        elif finalize or self._log_due(now):
            sys.stdout.write(self._line(current, now, finalize, color=False) + "\n")
            sys.stdout.flush()

    def _log_due(self, now):
        """Whether a log line is due: `log_interval` seconds after the last (verbose=1)."""
        if self.verbose != 1 or self.log_interval is None:
            return False
        if now - (self._last_log or self._start) < self.log_interval:
            return False
        self._last_log = now
        return True

    def _fitted_line(self, current, now, finalize):
        """The colored line and its visible width, at most the terminal's width - 1 on a
        terminal (a notebook wraps nothing, so it is left whole)."""
        line = self._line(current, now, finalize, color=True)
        visible = len(_ANSI.sub("", line))
        if finalize or in_notebook():  # the last line is kept whole
            return line, visible
        columns = shutil.get_terminal_size().columns - 1
        if visible <= columns:
            return line, visible
        bar_width = self.width
        # a shorter bar first (to half its width), then the line is cut
        self.width = max(min(self.width, 10), self.width - (visible - columns))
        try:
            line = self._line(current, now, finalize, color=True)
        finally:
            self.width = bar_width
        plain = _ANSI.sub("", line)
        if len(plain) <= columns:
            return line, len(plain)
        return plain[:max(columns - 1, 0)] + "…", columns

    def add(self, n, values=None):
        self.update(self._seen + n, values)

    def _line(self, current, now, finalize, color):
        target, width = self.target, self.width
        if target:
            count = "%*d/%d" % (len(str(target)), current, target)
            if self.verbose == 1:
                done = int(width * min(current, target) / target)
                if color:
                    line = (f"\x1b[1m{count}\x1b[0m \x1b[32m{'━' * done}\x1b[0m"
                            f"\x1b[37m{'━' * (width - done)}\x1b[0m")
                else:
                    line = f"{count} {'━' * done}{' ' * (width - done)}"
            else:
                line = count
        else:
            line = "%7d/Unknown" % current
        elapsed = now - self._start
        per_step = elapsed / max(current, 1)
        if target and not finalize:
            when = _fmt_eta(per_step * (target - current))
        else:
            when = f"{elapsed:.0f}s"
        sep = " - " if self.verbose == 2 else " "
        line += f"{sep}\x1b[1m{when}\x1b[0m{sep}" if color else f"{sep}{when}{sep}"
        line += _fmt_time(per_step)
        for k, v in self._values.items():
            line += f" - {k}: {_fmt_value(v)}"
        return line if color else line.replace("\x1b", "")
