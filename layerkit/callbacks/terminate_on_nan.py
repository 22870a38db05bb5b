"""TerminateOnNaN: stops training at the first batch whose loss is NaN or infinite."""

import math

from ..training.callback import Callback


class TerminateOnNaN(Callback):
    """After each training batch, stops `fit` if logs['loss'] is NaN or +-inf.

    Prints `Batch N: Invalid loss, terminating training` (N is the 0-based batch index in the
    epoch) and sets `model.stop_training`, so the epoch ends there and the other callbacks'
    `on_epoch_end` / `on_train_end` still run. The loss seen is the epoch's running mean, which
    stays NaN once one batch was NaN.

    Args:
        raise_error: Keras 3's option: raise RuntimeError instead of stopping gracefully.

    Example:
        >>> model.fit(x, y, callbacks=[TerminateOnNaN()])
    """

    def __init__(self, raise_error=False):
        super().__init__()
        self.raise_error = bool(raise_error)

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None or math.isfinite(float(loss)):
            return
        if self.raise_error:
            raise RuntimeError(
                f"TerminateOnNaN: the loss is {float(loss)} at batch {batch}. Lower the "
                "learning rate, clip gradients (clipnorm=...) or check the data for NaN/inf."
            )
        print(f"Batch {batch}: Invalid loss, terminating training")
        self.model.stop_training = True
