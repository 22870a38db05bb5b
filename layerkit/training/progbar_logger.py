"""ProgbarLogger: prints `Epoch i/N` and a tf.keras progress bar per epoch."""

import sys

from ..utils.progbar import Progbar
from .callback import Callback


class ProgbarLogger(Callback):
    """Added by `fit`/`evaluate`/`predict` when verbose > 0.

    Batch values are read lazily (`training_state.logs()`) only when the bar redraws, so a
    progress bar costs no device synchronisation per batch.
    """

    def __init__(self, stream=None):
        super().__init__()
        self.stream = stream or sys.stdout
        self.bar = None
        self.epochs = 1
        self._in_fit = False

    def on_train_begin(self, logs=None):
        self.epochs = self.params.get("epochs", 1)
        self._in_fit = True

    def on_train_end(self, logs=None):
        self._in_fit = False

    def on_epoch_begin(self, epoch, logs=None):
        self.stream.write(f"Epoch {epoch + 1}/{self.epochs}\n")
        self.stream.flush()
        self._new_bar()

    def _new_bar(self):
        self.bar = Progbar(self.params.get("steps"), verbose=self.params.get("verbose", 1),
                           stream=self.stream)

    def on_train_batch_end(self, batch, logs=None):
        self._batch_update(batch)

    def on_test_begin(self, logs=None):
        if not self._in_fit:
            self._new_bar()

    def on_test_batch_end(self, batch, logs=None):
        if not self._in_fit:
            self._batch_update(batch)

    def on_test_end(self, logs=None):
        if not self._in_fit:
            self.bar.update(self.bar.target or 0, list((logs or {}).items()), finalize=True)

    def on_predict_begin(self, logs=None):
        self._new_bar()

    def on_predict_batch_end(self, batch, logs=None):
        self._batch_update(batch)

    def on_predict_end(self, logs=None):
        self.bar.update(self.bar.target or 0, finalize=True)

    def _batch_update(self, batch):
        current = batch + 1
        if self.bar.target is not None and current >= self.bar.target:
            return  # the final line is drawn at epoch end, with validation values
        if self.bar.wants_update(current):
            state = self.training_state
            values = state.logs() if state is not None else {}
            self.bar.update(current, list(values.items()))

    def on_epoch_end(self, epoch, logs=None):
        self.bar.update(self.bar.target, list((logs or {}).items()), finalize=True)
