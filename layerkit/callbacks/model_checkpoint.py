"""ModelCheckpoint: save the model (or its weights) every epoch, every N batches, or when best.

Full-model files also carry where training stood (the trainer's
`training_state.snapshot()`: epoch, batches done, generator states, running sums) in a
group Keras ignores, so that `load_weights_on_restart=True` resumes an interrupted `fit`
exactly from the newest file (through `training_state.restore(snapshot)`).
"""

import numbers
import os
import re
import string
import warnings

from .monitor import MonitorCallback

_MODEL_EXTENSIONS = (".keras", ".h5", ".hdf5")
_WEIGHT_EXTENSIONS = (".weights.h5", ".h5", ".hdf5")


class ModelCheckpoint(MonitorCallback):
    """Saves the model during `fit` (tf.keras 2.x semantics; files written atomically).

    Args:
        filepath: target path, formatted with the 1-based `epoch` (and `batch` when saving
            every N batches) and every log key: `'model_{epoch:02d}_{val_loss:.2f}.hdf5'`.
            `.keras` writes the Keras 3 zip, `.h5` / `.hdf5` the Keras 2 HDF5 layout
            (weights only: `.weights.h5`, `.h5` or `.hdf5`).
        monitor: the log key compared when `save_best_only`.
        verbose: 1 prints a line per save decision.
        save_best_only: save only when `monitor` improves on the best value so far.
        save_weights_only: save `model.save_weights(...)` instead of `model.save(...)`.
        mode: 'auto' (max iff the name holds 'acc', see `monitor.resolve_mode`), 'min',
            'max'.
        save_freq: 'epoch', or an int: save after every that many training batches.
        initial_value_threshold: the best value to beat at the start (default ±inf).
        period: tf.keras 1.x/2.0 spelling: save every `period` epochs.
        load_weights_on_restart: at the start of `fit`, load the most recently modified
            file matching `filepath` (tf.keras 2.0's rule). A full-model file saved by
            layerkit also restores the optimizer state, the epoch (and batch) it was saved
            at and the generator states, so training continues exactly as if it had never
            stopped (bitwise on CPU); a weights-only file or one written by Keras restores
            the weights only, and `fit` starts at `initial_epoch`.

    Raises:
        ValueError: for an extension layerkit cannot save, or an invalid save_freq.

    Example:
        >>> ModelCheckpoint("best_model.h5", monitor="val_loss", save_best_only=True)
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False,
                 save_weights_only=False, mode="auto", save_freq="epoch", options=None,
                 initial_value_threshold=None, period=None, load_weights_on_restart=False,
                 **kwargs):
        super().__init__(monitor=monitor, mode=mode)
        if kwargs:
            raise TypeError(f"ModelCheckpoint: unexpected arguments {sorted(kwargs)}")
        self.load_weights_on_restart = bool(load_weights_on_restart)
        self.filepath = _check_path(filepath, save_weights_only)
        self.verbose = verbose
        self.save_best_only = bool(save_best_only)
        self.save_weights_only = bool(save_weights_only)
        if save_freq != "epoch" and (isinstance(save_freq, bool) or not isinstance(
                save_freq, numbers.Integral) or save_freq <= 0):
            raise ValueError(f"ModelCheckpoint(save_freq={save_freq!r}): expected 'epoch' or "
                             "a positive integer (a number of batches)")
        self.save_freq = save_freq
        if period is not None:
            warnings.warn("ModelCheckpoint(period=...) is deprecated in tf.keras; use "
                          "save_freq", DeprecationWarning, stacklevel=2)
        self.period = 1 if period is None else int(period)
        self.initial_value_threshold = initial_value_threshold
        self.best = self._start_best()
        self._epochs_since_save = 0
        self._batches_since_save = 0
        self._current_epoch = 0
        if save_freq != "epoch":  # only then does fit need batch logs (they cost a sync)
            self.on_train_batch_end = self._count_batch

    def _start_best(self):
        if self.initial_value_threshold is not None:
            return float(self.initial_value_threshold)
        return self._initial_best()

    def on_train_begin(self, logs=None):
        from ..saving.atomic import remove_stale

        self._reset_monitor()
        folder = os.path.dirname(os.path.abspath(self.filepath))
        if os.path.isdir(folder):
            remove_stale(folder)  # what a killed run was writing
        if self.load_weights_on_restart:
            path = latest_matching(self.filepath)
            if path is not None:
                self._restore(path)

    def _restore(self, path):
        """Loads `path`; resumes at its saved place when it carries one."""
        if self.save_weights_only:
            self.model.load_weights(path)
            return
        from ..saving import checkpoint

        snapshot = checkpoint.restore(self.model, path)
        if snapshot is not None:
            self.training_state.restore(snapshot, path)

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def _count_batch(self, batch, logs=None):
        self._batches_since_save += 1
        if self._batches_since_save >= self.save_freq:
            self._batches_since_save = 0
            self._save(self._current_epoch, batch, logs or {})

    def on_epoch_end(self, epoch, logs=None):
        self._epochs_since_save += 1
        if self.save_freq == "epoch" and self._epochs_since_save >= self.period:
            self._epochs_since_save = 0
            self._save(epoch, None, logs or {})

    def _save(self, epoch, batch, logs):
        filepath = self._file_path(epoch, batch, logs)
        if self.save_best_only:
            current = self.get_monitor_value(logs)
            if current is None:
                return
            if not self._is_improvement(current, self.best):
                self._say(f"Epoch {epoch + 1:05d}: {self.monitor} did not improve from "
                          f"{self.best:0.5f}")
                return
            self._say(f"Epoch {epoch + 1:05d}: {self.monitor} improved from {self.best:0.5f} "
                      f"to {current:0.5f}, saving model to {filepath}")
            self.best = current
        else:
            self._say(f"Epoch {epoch + 1:05d}: saving model to {filepath}")
        if self.save_weights_only:
            self.model.save_weights(filepath, overwrite=True)
            return
        from ..saving import checkpoint

        snapshot = self.training_state.snapshot()
        checkpoint.save(self.model, filepath,
                        lambda group: checkpoint.write_snapshot(group, snapshot))

    def _say(self, message):
        if self.verbose > 0:
            print("\n" + message)

    def _file_path(self, epoch, batch, logs):
        """`filepath` formatted with the 1-based epoch (and batch) and the logs."""
        values = dict(logs)
        values["epoch"] = epoch + 1
        if batch is not None:
            values["batch"] = batch + 1
        try:
            return self.filepath.format(**values)
        except (KeyError, IndexError, ValueError) as error:
            raise KeyError(
                f'ModelCheckpoint: failed to format the filepath "{self.filepath}": {error!r}. '
                f"Available keys: {sorted(values)}") from None


def latest_matching(filepath):
    """The most recently modified file matching the template `filepath` (tf.keras's rule:
    on an mtime tie, the greatest name), or None."""
    folder, template = os.path.split(filepath)
    folder = folder or "."
    pattern = re.compile("^" + "".join(
        re.escape(literal) + (".*" if field is not None else "")
        for literal, field, _, _ in string.Formatter().parse(template)) + "$")
    if not os.path.isdir(folder):
        return None
    matches = [os.path.join(folder, name) for name in os.listdir(folder)
               if not name.startswith(".") and pattern.match(name)]
    if not matches:
        return None
    newest = max(os.path.getmtime(path) for path in matches)
    return max(path for path in matches if os.path.getmtime(path) == newest)


def _check_path(filepath, save_weights_only):
    if not isinstance(filepath, (str, os.PathLike)):
        raise ValueError(f"ModelCheckpoint(filepath={filepath!r}): expected a str path")
    filepath = os.fspath(filepath)
    allowed = _WEIGHT_EXTENSIONS if save_weights_only else _MODEL_EXTENSIONS
    if not filepath.lower().endswith(allowed):
        kind = "save_weights_only=True" if save_weights_only else "full-model saving"
        raise ValueError(
            f"ModelCheckpoint(filepath={filepath!r}): for {kind} the file must end in one of "
            f"{', '.join(allowed)}")
    return filepath
