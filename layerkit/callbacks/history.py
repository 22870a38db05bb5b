"""History: records the epoch logs; `fit` returns it."""

from .callback import Callback
from .history_dict import HistoryDict


class History(Callback):
    """`history` maps each log key ('loss', 'acc', 'val_loss', ...) to per-epoch values.

    Attributes:
        history: dict of lists, in tf.keras key order (loss, metrics, then val_ keys); a
            `HistoryDict`, so `history['acc']` also finds 'accuracy' (Keras 2.0–2.2 notes).
        epoch: list of 0-based epoch indices.
        params: {'verbose', 'epochs', 'steps'} as in tf.keras.
    """

    def __init__(self):
        super().__init__()
        self.history = HistoryDict()
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        if self.model is not None:
            self.model.history = self
