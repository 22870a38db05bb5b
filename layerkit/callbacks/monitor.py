"""MonitorCallback: the monitored quantity, its direction and the improvement test.

Who owns what: this module is the one place that reads a monitored value from the epoch logs,
resolves `mode` ('auto' / 'min' / 'max') and decides whether a value improves on a reference.
EarlyStopping, ReduceLROnPlateau and ModelCheckpoint subclass it and keep their own counters.
"""

import math
import numbers
import warnings

from ..training.callback import Callback

# mode='auto' maximises a monitored name containing one of these (tf.keras 2.x looked for
# 'acc' only, so 'val_auc' was minimised; Keras 3 asks the metric for its direction).
_MAXIMISED = ("acc", "auc", "precision", "recall", "fmeasure", "f1", "fbeta", "iou", "io_u")


def resolve_mode(owner, monitor, mode):
    """Returns 'min' or 'max' for `monitor` under `mode`.

    'auto' follows tf.keras 2.x (maximise iff 'acc' is in the name), extended to the other
    names that grow when the model improves: 'auc', 'precision', 'recall', 'fmeasure', 'f1',
    'fbeta', 'iou' / 'io_u'. A name ending in 'loss' is always minimised.

    Args:
        owner: the callback's class name, for the error message.
        monitor: the monitored log key, e.g. 'val_loss'.
        mode: 'auto', 'min' or 'max'.

    Returns:
        'min' or 'max'.

    Raises:
        ValueError: for any other mode (tf.keras warned and fell back to 'auto').
    """
    if mode not in ("auto", "min", "max"):
        raise ValueError(
            f"{owner}(mode={mode!r}): mode must be 'auto', 'min' or 'max'. Use 'min' for a "
            "quantity that falls as the model improves (a loss), 'max' for one that rises."
        )
    if mode != "auto":
        return mode
    name = monitor.lower()
    if name.endswith("loss"):
        return "min"
    return "max" if any(part in name for part in _MAXIMISED) else "min"


class MonitorCallback(Callback):
    """Base class for callbacks that watch one log key for improvement.

    Args:
        monitor: the log key to watch ('loss', 'val_loss', 'val_acc', ...).
        mode: 'auto', 'min' or 'max' (see `resolve_mode`).
        min_delta: the smallest change that counts as an improvement; its absolute value is
            used, as in every Keras version.

    Attributes:
        monitor_op: 'min' or 'max', the resolved direction.
    """

    def __init__(self, monitor="val_loss", mode="auto", min_delta=0.0):
        super().__init__()
        owner = type(self).__name__
        if not isinstance(monitor, str) or not monitor:
            raise ValueError(
                f"{owner}(monitor={monitor!r}): monitor must be a log key such as 'val_loss'"
            )
        if not isinstance(min_delta, numbers.Real) or not math.isfinite(min_delta):
            raise ValueError(f"{owner}(min_delta={min_delta!r}): min_delta must be a finite "
                             "number")
        self.monitor = monitor
        self.mode = mode
        self.monitor_op = resolve_mode(owner, monitor, mode)
        self.min_delta = abs(float(min_delta))
        self._warned_no_validation = False

    def _initial_best(self):
        """The reference before any epoch: +inf when minimising, -inf when maximising."""
        return math.inf if self.monitor_op == "min" else -math.inf

    def _is_improvement(self, current, reference):
        """True if `current` beats `reference` by more than `min_delta` (None: always)."""
        if reference is None:
            return True
        if self.monitor_op == "min":
            return current + self.min_delta < reference
        return current - self.min_delta > reference

    def get_monitor_value(self, logs):
        """The monitored value from the epoch `logs` as a float, or None for this epoch.

        A missing `val_*` key on an epoch without any validation keys (no validation pass this
        epoch, e.g. `validation_freq=2`, or no validation data at all) gives one warning per
        `fit` and None; any other missing key is an error.

        Raises:
            ValueError: naming the key and listing the available ones.
        """
        logs = logs or {}
        if self.monitor in logs:
            return float(logs[self.monitor])
        owner = type(self).__name__
        available = sorted(logs)
        no_validation = self.monitor.startswith("val_") and not any(
            key.startswith("val_") for key in logs)
        if not no_validation:
            raise ValueError(
                f"{owner}(monitor={self.monitor!r}): the epoch logs have no {self.monitor!r}. "
                f"Available keys: {available}. Pass one of them as monitor=..., or compile "
                "the model with the metric you want to monitor."
            )
        if not self._warned_no_validation:
            self._warned_no_validation = True
            warnings.warn(
                f"{owner}(monitor={self.monitor!r}): this epoch ran no validation, so "
                f"{self.monitor!r} is missing (available keys: {available}); the epoch is "
                "skipped. Pass validation_data=... or validation_split=... to fit, or monitor "
                f"{self.monitor[4:]!r} instead.",
                stacklevel=2,
            )
        return None

    def _reset_monitor(self):
        """Called from `on_train_begin`: warn again about missing validation in a new fit."""
        self._warned_no_validation = False


def check_count(owner, name, value):
    """Returns `value` as an int, checking it is a non-negative integer (a patience, ...).

    Raises:
        ValueError: naming the callback and the argument.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(
            f"{owner}({name}={value!r}): {name} must be a non-negative integer (a number of "
            "epochs)"
        )
    return int(value)
