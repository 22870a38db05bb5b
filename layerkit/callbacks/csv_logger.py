"""CSVLogger: streams the epoch logs to a CSV file, one row per epoch."""

import collections.abc
import csv
import os

from .callback import Callback


class CSVLogger(Callback):
    """Writes `epoch,<sorted log keys>` and then one row per epoch (tf.keras 2.x format).

    The `epoch` column is the 0-based epoch index. The columns are the keys of the first
    epoch's logs, sorted; a key missing in a later epoch is written as 'NA' and a key first
    seen later is not written (a CSV header cannot grow). Keras 3 adds `val_*` columns when the
    first epoch has none; layerkit keeps tf.keras 2.x's columns.

    Crash safety: the file is only appended to, and every row is flushed and `os.fsync`-ed
    before `fit` goes on, so a killed process leaves a file of complete rows (up to the last
    finished epoch) that `append=True` can continue.

    Args:
        filename: path of the CSV file.
        separator: the field separator.
        append: True appends to an existing file (no second header if it already has
            content); False overwrites it.

    Example:
        >>> model.fit(x, y, epochs=10, callbacks=[CSVLogger("training.log")])
    """

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        if not isinstance(separator, str) or len(separator) != 1:
            raise ValueError(
                f"CSVLogger(separator={separator!r}): separator must be a one-character string"
            )
        self.filename = os.fspath(filename)
        self.sep = separator
        self.append = bool(append)
        self.keys = None
        self.csv_file = None
        self._writer = None
        self._header = True

    def on_train_begin(self, logs=None):
        self._close()
        mode = "w"
        self._header = True
        if self.append:
            mode = "a"
            if os.path.exists(self.filename):
                self._header = os.path.getsize(self.filename) == 0
        self.csv_file = open(self.filename, mode, newline="", encoding="utf-8")
        self.keys = None
        self._writer = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.csv_file is None:
            raise RuntimeError("CSVLogger.on_epoch_end called before on_train_begin: use the "
                               "callback through fit(callbacks=[...])")
        if self.keys is None:
            self.keys = sorted(logs)
            self._writer = csv.writer(self.csv_file, delimiter=self.sep)
            if self._header:
                self._writer.writerow(["epoch"] + self.keys)
        row = [epoch] + [_cell(logs[key]) if key in logs else "NA" for key in self.keys]
        self._writer.writerow(row)
        self.csv_file.flush()
        os.fsync(self.csv_file.fileno())

    def on_train_end(self, logs=None):
        self._close()

    def _close(self):
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.close()
        self.csv_file = None
        self._writer = None


def _cell(value):
    """A log value as tf.keras wrote it: strings as-is, 1-D iterables as "[a, b]"."""
    if isinstance(value, str):
        return value
    if getattr(value, "ndim", None) == 0:  # numpy or torch scalar
        return value.item()
    if isinstance(value, collections.abc.Iterable):
        return "[%s]" % ", ".join(map(str, value))
    return value
