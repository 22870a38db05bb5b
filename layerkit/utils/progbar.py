"""Progbar: the tf.keras 2.x progress bar.

`30/30 [==============================] - 1s 20ms/step - loss: 0.5000 - acc: 0.8000`

On a terminal the line is redrawn in place (at most every `interval` seconds: 0.1 by
default, ten redraws a second, so a batch_size=1 epoch pays for ten lines a second, not a
line a step; tf.keras's 0.05 drew twice as often); when the
output is not a terminal (a log file, CI, a notebook capture) nothing is drawn until the
line is final, so logs hold one clean line per epoch: no backspaces, no carriage returns.
"""

import sys
import time


def format_value(value):
    """tf.keras number format: 4 decimals, scientific for |v| <= 1e-3."""
    return f"{value:.4f}" if abs(value) > 1e-3 else f"{value:.4e}"


def format_time_per_unit(seconds, unit="step"):
    """tf.keras time per step: `2s/step`, `20ms/step`, `20us/step` (and `0s/step` for 0)."""
    if seconds >= 1 or seconds == 0:
        return f"{seconds:.0f}s/{unit}"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/{unit}"
    return f"{seconds * 1e6:.0f}us/{unit}"


def format_eta(seconds):
    """tf.keras ETA: `1:02:05` above an hour, `2:05` above a minute, else `42s`."""
    if seconds > 3600:
        return "%d:%02d:%02d" % (seconds // 3600, (seconds % 3600) // 60, seconds % 60)
    if seconds > 60:
        return "%d:%02d" % (seconds // 60, seconds % 60)
    return "%ds" % seconds


class Progbar:
    """Displays progress towards `target` steps.

    Args:
        target: total number of steps (None if unknown).
        width: bar width in characters (30 as in tf.keras).
        verbose: 1 = bar, 2 = one line at the end.
        interval: minimum seconds between redraws on a terminal (default 0.1).
        stream: where to write (sys.stdout by default).
    """

    def __init__(self, target, width=30, verbose=1, interval=0.1, stream=None):
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.stream = stream or sys.stdout
        isatty = getattr(self.stream, "isatty", None)
        self.dynamic = bool(isatty and isatty())
        self._start = time.time()
        self._last_update = 0.0
        self._total_width = 0

    def wants_update(self, current, finalize=False):
        """Whether `update` would draw now (lets callers skip computing values)."""
        if self.verbose == 1 and self.dynamic:
            return finalize or time.time() - self._last_update >= self.interval
        return finalize

    def update(self, current, values=(), finalize=None, extra=""):
        """Draws the bar at step `current` with `values` (a sequence of (name, float))."""
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        if not self.wants_update(current, finalize):
            return
        now = time.time()
        self._last_update = now
        line = self._line(current, values, now, finalize) + extra
        if self.verbose == 1 and self.dynamic:
            pad = max(0, self._total_width - len(line))
            self.stream.write("\r" + line + " " * pad)
            self._total_width = len(line)
            if finalize:
                self.stream.write("\n")
        elif finalize:
            self.stream.write(line + "\n")
        self.stream.flush()

    def _line(self, current, values, now, finalize):
        elapsed = now - self._start
        metrics = "".join(f" - {name}: {format_value(v)}" for name, v in values)
        count = self._count(current)
        if self.verbose == 2:
            return f"{count} - {elapsed:.0f}s{metrics}"
        # tf.keras: an unknown target shows the count alone, with the time per step
        bar = count if self.target is None else count + " [" + self._bar(current) + "]"
        per_step = elapsed / current if current else 0
        if finalize or self.target is None:
            info = f" - {elapsed:.0f}s {format_time_per_unit(per_step)}"
        else:
            info = f" - ETA: {format_eta(per_step * (self.target - current))}"
        return bar + info + metrics

    def _count(self, current):
        if self.target is None:
            return "%7d/Unknown" % current
        digits = len(str(self.target))
        return f"{current:{digits}d}/{self.target}"

    def _bar(self, current):
        filled = int(self.width * min(current, self.target) / self.target)
        head = "=" if current >= self.target else ">"
        body = "=" * (filled - 1) + head if filled > 0 else ""
        return body + "." * (self.width - filled)
