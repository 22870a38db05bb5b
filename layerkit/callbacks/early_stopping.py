"""EarlyStopping: stops `fit` when the monitored quantity stops improving."""

import numbers

from .monitor import MonitorCallback, check_count


class EarlyStopping(MonitorCallback):
    """Stops training after `patience` consecutive epochs without improvement.

    An epoch improves when its value beats the best so far by more than |min_delta|; the best
    starts at `baseline` when one is given (tf.keras 2.x), so epochs that do not beat the
    baseline count against the patience. With patience p >= 1 training stops at the end of
    the p-th consecutive non-improving epoch (all Keras versions agree); with patience 0 it
    stops at the first non-improving one. Epochs before `start_from_epoch` are ignored.

    Choices where Keras versions differ:
      * `restore_best_weights` restores the best epoch's weights when stopping (tf.keras 2.x)
        **and** at the end of training when patience never ran out (Keras 3), so `fit` always
        ends on the best epoch. The best epoch is the best monitored one even if it did not
        beat `baseline` (Keras 3); the first monitored epoch always counts.
      * The message is tf.keras 2.x's `Epoch 00005: early stopping` (1-based, printed at the
        end of training when verbose > 0), also when training stops after the first epoch.
      * A monitored key missing from the logs is a ValueError listing the available keys
        (Keras warned); only a `val_*` key on an epoch that ran no validation warns and skips.
      * mode='auto': see `monitor.resolve_mode` ('acc', 'auc', 'precision', 'recall', ... are
        maximised; an unknown mode is an error).

    Args:
        monitor: the log key to watch.
        min_delta: the smallest change that counts as an improvement.
        patience: number of non-improving epochs after which training stops.
        verbose: 0 silent, 1 prints when stopping and restoring.
        mode: 'auto', 'min' or 'max'.
        baseline: the value to beat, or None.
        restore_best_weights: whether to end on the best epoch's weights.
        start_from_epoch: number of warm-up epochs not monitored.

    Attributes:
        best: the reference value (the best so far, or the baseline).
        wait: consecutive non-improving epochs.
        stopped_epoch: 0-based epoch at which training stopped (0 when it did not).
        best_epoch: 0-based epoch of the best monitored value (None before any).

    Example:
        >>> model.fit(x, y, validation_split=0.2, epochs=100,
        ...           callbacks=[EarlyStopping(patience=3, restore_best_weights=True)])
    """

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto",
                 baseline=None, restore_best_weights=False, start_from_epoch=0):
        super().__init__(monitor, mode, min_delta)
        if baseline is not None and (isinstance(baseline, bool)
                                     or not isinstance(baseline, numbers.Real)):
            raise ValueError(
                f"EarlyStopping(baseline={baseline!r}): baseline must be a number or None"
            )
        self.patience = check_count("EarlyStopping", "patience", patience)
        self.start_from_epoch = check_count("EarlyStopping", "start_from_epoch",
                                            start_from_epoch)
        self.verbose = verbose
        self.baseline = None if baseline is None else float(baseline)
        self.restore_best_weights = bool(restore_best_weights)
        self._start()

    def _start(self):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = self._initial_best() if self.baseline is None else self.baseline
        self.best_epoch = None
        self.best_weights = None
        self._best_seen = None
        self._stopped = False
        self._restored = False

    def on_train_begin(self, logs=None):
        self._reset_monitor()
        self._start()

    def on_epoch_end(self, epoch, logs=None):
        current = self.get_monitor_value(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        self._track_best_epoch(epoch, current)
        if self._is_improvement(current, self.best):
            self.best = current
            self.wait = 0
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self._stopped = True
            self.model.stop_training = True
            self._restore()

    def _track_best_epoch(self, epoch, current):
        """Remembers the best monitored epoch (and its weights), whatever the baseline."""
        if self._is_improvement(current, self._best_seen):
            self._best_seen = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()

    def _restore(self):
        if not self.restore_best_weights or self.best_weights is None or self._restored:
            return
        if self.verbose > 0:
            print("Restoring model weights from the end of the best epoch: "
                  f"{self.best_epoch + 1}.")
        self.model.set_weights(self.best_weights)
        self._restored = True

    def on_train_end(self, logs=None):
        if self._stopped and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1:05d}: early stopping")
        self._restore()
