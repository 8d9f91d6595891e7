"""The progress bar on a fake stream: on an 80-column terminal a redraw never wraps (the
line is cut to the width, the bar shrinking first), so the bar stays on one line; in a log
(not a terminal) a plain line every `log_interval` seconds of a long epoch and one at the
end, with no carriage returns, backspaces or escape codes."""

import io
import re

import numpy as np
import pytest

import kerax
from kerax.utils import progbar as progbar_lib

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class _Clock:
    def __init__(self):
        self.now = 1000.0

    def time(self):
        return self.now


class _Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.fixture
def clock(monkeypatch):
    c = _Clock()
    monkeypatch.setattr(progbar_lib.time, "time", c.time)
    return c


_METRICS = [("loss", 0.123456), ("mean_absolute_error", 0.5), ("root_mean_squared_error", 0.25),
            ("categorical_accuracy", 0.75)]


@pytest.mark.parametrize("columns", [80, 40, 20])
def test_redraws_fit_the_terminal(monkeypatch, clock, columns):
    monkeypatch.setenv("COLUMNS", str(columns))
    out = _Terminal()
    monkeypatch.setattr(progbar_lib.sys, "stdout", out)
    bar = progbar_lib.Progbar(100, interactive=True)
    for step in range(1, 101):
        clock.now += 0.1
        bar.update(step, _METRICS, finalize=False)
    clock.now += 0.1
    bar.update(100, _METRICS, finalize=True)
    text = out.getvalue()
    redraws = text.split("\r")[1:]
    assert len(redraws) == 101
    for r in redraws[:-1]:  # each redraw on one line of the terminal
        assert "\n" not in r and len(_ANSI.sub("", r)) <= columns - 1
    assert redraws[-1].endswith("\n")  # the last line is whole, with every metric
    assert "categorical_accuracy: 0.7500" in redraws[-1]
    first = _ANSI.sub("", redraws[0])
    if columns == 80:  # the bar shrank, the metrics are kept while they fit
        assert "loss: 0.1235" in first and "━" in first


def test_redraws_clear_what_a_longer_line_left(monkeypatch, clock):
    monkeypatch.setenv("COLUMNS", "200")
    out = _Terminal()
    monkeypatch.setattr(progbar_lib.sys, "stdout", out)
    bar = progbar_lib.Progbar(10, interactive=True)
    clock.now += 1
    bar.update(1, [("loss", 123.0), ("acc", 0.5)])
    clock.now += 1
    bar.update(2, [("loss", 1.0), ("acc", 0.5)])
    first, second = (_ANSI.sub("", r) for r in out.getvalue().split("\r")[1:])
    assert len(second) == len(first)  # padded with spaces over the old text


def test_a_log_gets_a_line_every_interval_and_at_the_end(monkeypatch, clock):
    out = io.StringIO()
    monkeypatch.setattr(progbar_lib.sys, "stdout", out)
    bar = progbar_lib.Progbar(100, interactive=False, log_interval=10.0)
    for step in range(1, 101):
        clock.now += 1.0  # 100 s in all: lines at 10 s, 20 s, ... and the final one
        bar.update(step, [("loss", 0.5)], finalize=False)
    bar.update(100, [("loss", 0.5)], finalize=True)
    lines = out.getvalue().splitlines()
    assert len(lines) == 11
    assert lines[0].startswith(" 10/100 ━━") and "loss: 0.5000" in lines[0]
    assert re.search(r" 1:30 1s/step", lines[0])  # the estimated time left
    assert lines[-1].startswith("100/100 ━━━━━━━━━━━━━━━━━━━━ 100s 1s/step")
    assert not re.search(r"[\r\b\x1b]", out.getvalue())


def test_a_short_epoch_in_a_log_is_one_line(monkeypatch, clock):
    out = io.StringIO()
    monkeypatch.setattr(progbar_lib.sys, "stdout", out)
    bar = progbar_lib.Progbar(5, interactive=False)
    for step in range(1, 6):
        clock.now += 0.01
        bar.update(step, [("loss", 0.5)], finalize=step == 5)
    assert len(out.getvalue().splitlines()) == 1


def test_fit_to_a_log_writes_one_line_per_epoch(capsys):
    model = kerax.Sequential([kerax.Input((2,)), kerax.layers.Dense(1)])
    model.compile("sgd", "mse")
    model.fit(np.ones((8, 2)), np.ones((8, 1)), batch_size=2, epochs=2, verbose=1)
    lines = capsys.readouterr().out.splitlines()
    assert [l.split(" ")[0] for l in lines] == ["Epoch", "4/4", "Epoch", "4/4"]
