"""CSVLogger: streams the epoch logs to a CSV file, one row per epoch."""

import collections.abc
import csv
import io
import os

from ..training.callback import Callback


class CSVLogger(Callback):
    """Writes `epoch,<sorted log keys>` and then one row per epoch (tf.keras 2.x format).

    The `epoch` column is the 0-based epoch index. The columns are the keys of the first
    epoch's logs, sorted; a key missing in a later epoch is written as 'NA' and a key first
    seen later is not written (a CSV header cannot grow). Keras 3 adds `val_*` columns when the
    first epoch has none; layerkit keeps tf.keras 2.x's columns.

    Crash safety: after every epoch the whole file (what `append=True` found, then the rows
    so far) is rewritten atomically (`saving.atomic_write`: a temporary file, fsync, a
    rename, fsync of the folder), so a process killed at any instant leaves the previous
    version or the new one, never a torn row, and no temporary file that the next save
    into the folder does not remove. The file is replaced only at the first epoch's end.

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
        self._text = None  # the file's content as of the last epoch (None: not training)

    def on_train_begin(self, logs=None):
        self.keys = None
        self._text = ""
        if self.append and os.path.exists(self.filename):
            with open(self.filename, encoding="utf-8", newline="") as handle:
                self._text = handle.read()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self._text is None:
            raise RuntimeError("CSVLogger.on_epoch_end called before on_train_begin: use the "
                               "callback through fit(callbacks=[...])")
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=self.sep)
        if self.keys is None:
            self.keys = sorted(logs)
            if not self._text:
                writer.writerow(["epoch"] + self.keys)
        writer.writerow([epoch] + [_cell(logs[key]) if key in logs else "NA"
                                   for key in self.keys])
        self._text += buffer.getvalue()
        from ..saving.atomic import atomic_write

        with atomic_write(self.filename, "wb") as handle:
            handle.write(self._text.encode("utf-8"))

    def on_train_end(self, logs=None):
        self._text = None


def _cell(value):
    """A log value as tf.keras wrote it: strings as-is, 1-D iterables as "[a, b]"."""
    if isinstance(value, str):
        return value
    if getattr(value, "ndim", None) == 0:  # numpy or torch scalar
        return value.item()
    if isinstance(value, collections.abc.Iterable):
        return "[%s]" % ", ".join(map(str, value))
    return value
