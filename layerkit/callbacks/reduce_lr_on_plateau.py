"""ReduceLROnPlateau: multiplies the learning rate by `factor` when the monitored value stalls."""

import numbers
import warnings

from .monitor import MonitorCallback, check_count


class ReduceLROnPlateau(MonitorCallback):
    """Reduces the optimizer's learning rate after `patience` epochs without improvement.

    Each epoch end (tf.keras 2.x order): the current learning rate is written into the logs as
    'lr' (Keras 3 calls it 'learning_rate'); during a cooldown the counter falls by one and
    `wait` is cleared; an improving epoch (beats the best by more than |min_delta|) sets the
    best and clears `wait`; otherwise, outside a cooldown, `wait` grows, and when it reaches
    `patience` and lr > min_lr the rate becomes `max(lr * factor, min_lr)`, a cooldown of
    `cooldown` epochs starts and `wait` is cleared. At min_lr nothing changes.

    Args:
        monitor: the log key to watch.
        factor: the multiplier, 0 <= factor < 1.
        patience: non-improving epochs before a reduction.
        verbose: 0 silent, 1 prints `Epoch 00005: ReduceLROnPlateau reducing learning rate
            to 1e-05.` (tf.keras 2.x format, after a blank line as tf.keras printed it).
        mode: 'auto', 'min' or 'max' (see `monitor.resolve_mode`).
        min_delta: the smallest change that counts as an improvement.
        cooldown: epochs to wait after a reduction before counting again.
        min_lr: the lower bound of the learning rate.
        **kwargs: the Keras 2 alias `epsilon` of `min_delta` (deprecated, warns).

    Raises:
        ValueError: for a factor outside [0, 1) or a negative patience, cooldown or min_lr;
            at an epoch end, for a monitored key missing from the logs.

    Example:
        >>> ReduceLROnPlateau(monitor="val_loss", factor=0.2, patience=5, min_lr=0.001)
    """

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto",
                 min_delta=1e-4, cooldown=0, min_lr=0, **kwargs):
        if "epsilon" in kwargs:
            min_delta = kwargs.pop("epsilon")
            warnings.warn("ReduceLROnPlateau: `epsilon` is deprecated, use `min_delta`",
                          DeprecationWarning, stacklevel=2)
        if kwargs:
            raise TypeError(
                f"ReduceLROnPlateau got unexpected keyword arguments {sorted(kwargs)}; "
                "expected monitor, factor, patience, verbose, mode, min_delta, cooldown, "
                "min_lr (or the legacy epsilon)"
            )
        super().__init__(monitor, mode, min_delta)
        if not isinstance(factor, numbers.Real) or not 0.0 <= factor < 1.0:
            raise ValueError(
                f"ReduceLROnPlateau(factor={factor!r}): factor must be in [0, 1): the new "
                "learning rate is lr * factor, so factor >= 1 would not reduce it"
            )
        if not isinstance(min_lr, numbers.Real) or min_lr < 0:
            raise ValueError(f"ReduceLROnPlateau(min_lr={min_lr!r}): min_lr must be a "
                             "number >= 0")
        self.factor = float(factor)
        self.patience = check_count("ReduceLROnPlateau", "patience", patience)
        self.cooldown = check_count("ReduceLROnPlateau", "cooldown", cooldown)
        self.min_lr = float(min_lr)
        self.verbose = verbose
        self._reset()

    def _reset(self):
        self.best = self._initial_best()
        self.cooldown_counter = 0
        self.wait = 0

    def in_cooldown(self):
        """True while the epochs after a reduction are still being skipped."""
        return self.cooldown_counter > 0

    def on_train_begin(self, logs=None):
        self._reset_monitor()
        self._reset()

    def on_epoch_end(self, epoch, logs=None):
        logs = {} if logs is None else logs
        logs["lr"] = float(self.model.optimizer.learning_rate)
        current = self.get_monitor_value(logs)
        if current is None:
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self._is_improvement(current, self.best):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience:
                self._reduce(epoch)

    def _reduce(self, epoch):
        optimizer = self.model.optimizer
        old_lr = float(optimizer.learning_rate)
        if old_lr <= self.min_lr:
            return
        new_lr = max(old_lr * self.factor, self.min_lr)
        optimizer.learning_rate = new_lr
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1:05d}: ReduceLROnPlateau reducing learning rate to "
                  f"{new_lr}.")
        self.cooldown_counter = self.cooldown
        self.wait = 0
