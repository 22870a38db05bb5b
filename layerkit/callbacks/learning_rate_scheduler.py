"""LearningRateScheduler: sets the learning rate from a function of the epoch."""

import inspect
import numbers

import numpy as np
import torch

from ..training.callback import Callback


class LearningRateScheduler(Callback):
    """At each epoch begin sets `optimizer.learning_rate = schedule(epoch, lr)`.

    `epoch` is the 0-based epoch index and `lr` the current learning rate (a float); a
    one-argument `schedule(epoch)` (the Keras 1/2.0 form) works too. The choice is made from
    the function's signature, so a TypeError raised inside a two-argument schedule is not
    mistaken for the old form (Keras retried `schedule(epoch)` on any TypeError). At epoch end
    the learning rate is written into the logs as 'lr' (tf.keras 2.x; Keras 3: 'learning_rate').

    Args:
        schedule: f(epoch, lr) -> float, or f(epoch) -> float.
        verbose: 0 silent, 1 prints `Epoch 00001: LearningRateScheduler setting learning rate
            to 0.01.` (tf.keras >= 2.7 wording, after a blank line as tf.keras printed it).

    Raises:
        ValueError: at epoch begin, when `schedule` returns something other than a float.

    Example:
        >>> LearningRateScheduler(lambda epoch, lr: lr if epoch < 10 else lr * 0.9)
    """

    def __init__(self, schedule, verbose=0):
        super().__init__()
        if not callable(schedule):
            raise ValueError(
                f"LearningRateScheduler(schedule={schedule!r}): schedule must be a function "
                "f(epoch, lr) -> float or f(epoch) -> float"
            )
        self.schedule = schedule
        self.verbose = verbose

    def _call_schedule(self, epoch, lr):
        try:
            inspect.signature(self.schedule).bind(epoch, lr)
        except TypeError:  # cannot take (epoch, lr): the one-argument form
            return self.schedule(epoch)
        except ValueError:  # no signature (some builtins): Keras's try-and-fall-back
            try:
                return self.schedule(epoch, lr)
            except TypeError:
                return self.schedule(epoch)
        return self.schedule(epoch, lr)

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.model.optimizer
        lr = _as_float(self._call_schedule(epoch, float(optimizer.learning_rate)))
        optimizer.learning_rate = lr
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1:05d}: LearningRateScheduler setting learning rate to "
                  f"{lr}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["lr"] = float(self.model.optimizer.learning_rate)


def _as_float(value):
    """The schedule's result as a Python float; ints and non-numbers are rejected (Keras)."""
    if isinstance(value, torch.Tensor) and value.numel() == 1 and value.is_floating_point():
        return float(value)
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind == "f":
        return float(value)
    if isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral):
        return float(value)
    raise ValueError(
        "LearningRateScheduler: the schedule function must return a float learning rate, "
        f"received {value!r} ({type(value).__name__}). Return e.g. `float(lr)` or `0.01`, "
        "not an int."
    )
