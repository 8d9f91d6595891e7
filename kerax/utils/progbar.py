"""Keras' progress bar: redraws in place on a terminal, plain lines otherwise."""

import math
import os
import sys
import time

from kerax.backend import switches

import numpy as np


def is_interactive():
    """True when stdout is a terminal or a notebook (so the bar may redraw in place)."""
    if not switches.is_interactive_logging_enabled():
        return False
    if "ipykernel" in sys.modules:
        return True
    return hasattr(sys.stdout, "isatty") and sys.stdout.isatty() and os.environ.get(
        "TERM") != "dumb"


def _fmt_value(v):
    v = float(np.mean(np.asarray(v)))
    return f"{v:.4f}" if abs(v) > 1e-3 else f"{v:.4e}"


def _fmt_time(seconds):
    if seconds >= 1 or seconds == 0:
        return f"{seconds:.0f}s/step"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/step"
    return f"{seconds * 1e6:.0f}us/step"


class Progbar:
    """Displays a progress bar, as `keras.utils.Progbar`.

    On a terminal (or notebook) the bar redraws in place; otherwise only the final line of
    each bar is written, with no carriage returns, backspaces or escape codes. Values are
    read (a device-to-host copy) only when a line is drawn.

    Args:
        target: total number of steps expected, or None if unknown.
        width: the bar's width in characters.
        verbose: 1 (bar), 2 (one line at the end), 0 (silent).
        interval: minimum seconds between redraws.
        stateful_metrics: names of values displayed as given (not averaged).
        unit_name: display name for a step.

    Example:
    >>> bar = Progbar(2, verbose=0)
    >>> bar.update(1, [("loss", 0.5)])
    >>> bar.update(2, [("loss", 0.25)])
    """

    def __init__(self, target, width=20, verbose=1, interval=0.05, stateful_metrics=None,
                 unit_name="step", interactive=None):
        self.target, self.width, self.verbose = target, width, verbose
        self.interval = interval
        self.stateful_metrics = set(stateful_metrics or [])
        self.unit_name = unit_name
        self.interactive = is_interactive() if interactive is None else interactive
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
            line = self._line(current, now, finalize, color=True)
            visible = len(line)
            pad = " " * max(0, self._prev_width - visible)
            sys.stdout.write("\r" + line + pad + ("\n" if finalize else ""))
            sys.stdout.flush()
            self._prev_width = visible
            self._last_update = now
        elif finalize:
            sys.stdout.write(self._line(current, now, True, color=False) + "\n")
            sys.stdout.flush()

    def add(self, n, values=None):
        self.update(self._seen + n, values)

    def _line(self, current, now, finalize, color):
        bold = (lambda s: f"\x1b[1m{s}\x1b[0m") if color else (lambda s: s)
        parts = []
        if self.target:
            digits = int(math.log10(self.target)) + 1
            count = f"%{digits}d/%d" % (current, self.target)
            done = int(self.width * min(current, self.target) / self.target)
            if self.verbose == 1:
                if color:
                    bar = f"\x1b[32m{'━' * done}\x1b[0m\x1b[37m{'━' * (self.width - done)}\x1b[0m"
                else:
                    bar = "━" * done + " " * (self.width - done)
                parts.append(f"{bold(count)} {bar}")
            else:
                parts.append(count)
        else:
            parts.append("%7d/Unknown" % current)
        elapsed = now - self._start
        per_step = elapsed / max(current, 1)
        if self.target and not finalize:
            eta = per_step * (self.target - current)
            parts.append(bold(f"{eta:.0f}s") if eta < 60 else bold("%d:%02d" % (eta // 60, eta % 60)))
        else:
            parts.append(bold(f"{elapsed:.0f}s"))
        if self.verbose == 2:
            line = " - ".join(parts) + " - " + _fmt_time(per_step)
        else:
            line = " ".join(parts) + " " + _fmt_time(per_step)
        for k, v in self._values.items():
            line += f" - {k}: {_fmt_value(v)}"
        if color:
            return line
        return line.replace("\x1b", "")
