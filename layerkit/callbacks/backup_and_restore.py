"""BackupAndRestore: resume an interrupted `fit` from the last completed epoch.

Who owns what: this callback writes and reads the backup; `fit` reads
`model._resume_epoch` right after `on_train_begin` and starts its epoch loop there.

Files in `backup_dir` (each written atomically, in this order, so a process killed at any
instant leaves a consistent backup):
- `ckpt-<epoch>.weights.h5`: weights and optimizer state, Keras 3 layout;
- `training_metadata.json`: `{"epoch": <next epoch>, "file": "ckpt-<epoch>.weights.h5"}`,
  replaced only once the weights it names are complete; older weight files are then removed.
"""

import json
import numbers
import os

from .callback import Callback

METADATA = "training_metadata.json"


class BackupAndRestore(Callback):
    """Backs up the model every epoch (or every N batches) and restores it when fit restarts.

    Args:
        backup_dir: folder for the backup (created when needed; use one per training run).
        save_freq: 'epoch', or an int N: also back up every N batches (a restart then
            repeats the interrupted epoch from the weights of its last backup).
        delete_checkpoint: remove the backup when `fit` finishes normally.

    Example:
        >>> model.fit(x, y, epochs=10, callbacks=[BackupAndRestore("/tmp/backup")])
    """

    def __init__(self, backup_dir, save_freq="epoch", delete_checkpoint=True):
        super().__init__()
        if not isinstance(backup_dir, (str, os.PathLike)) or not os.fspath(backup_dir):
            raise ValueError(f"BackupAndRestore(backup_dir={backup_dir!r}): expected a folder "
                             "path")
        if save_freq != "epoch" and (isinstance(save_freq, bool) or not isinstance(
                save_freq, numbers.Integral) or save_freq <= 0):
            raise ValueError(f"BackupAndRestore(save_freq={save_freq!r}): expected 'epoch' "
                             "or a positive integer (a number of batches)")
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.delete_checkpoint = bool(delete_checkpoint)
        self._current_epoch = 0
        self._batches = 0
        if save_freq != "epoch":
            self.on_train_batch_end = self._count_batch

    @property
    def _metadata_path(self):
        return os.path.join(self.backup_dir, METADATA)

    def on_train_begin(self, logs=None):
        """Restores the backup, if any, and tells fit where to resume."""
        metadata = self._read_metadata()
        if metadata is None:
            return
        from ..saving import load_weights

        load_weights(self.model, os.path.join(self.backup_dir, metadata["file"]))
        self.model._resume_epoch = metadata["epoch"]

    def _read_metadata(self):
        if not os.path.exists(self._metadata_path):
            return None
        try:
            with open(self._metadata_path, encoding="utf-8") as handle:
                metadata = json.load(handle)
        except (OSError, ValueError) as error:
            raise ValueError(f"BackupAndRestore: cannot read {self._metadata_path}: {error}. "
                             "Delete the backup folder to start over") from None
        epoch, name = metadata.get("epoch"), metadata.get("file")
        if not isinstance(epoch, int) or epoch < 0 or not isinstance(name, str) or \
                os.path.basename(name) != name:
            raise ValueError(f"BackupAndRestore: {self._metadata_path} is malformed: "
                             f"{metadata!r}. Delete the backup folder to start over")
        return metadata

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        self._backup(next_epoch=epoch + 1, tag=f"{epoch + 1}")

    def _count_batch(self, batch, logs=None):
        self._batches += 1
        if self._batches >= self.save_freq:
            self._batches = 0
            self._backup(next_epoch=self._current_epoch,
                         tag=f"{self._current_epoch}-{batch + 1}")

    def _backup(self, next_epoch, tag):
        from ..saving import save_weights
        from ..saving.atomic import atomic_write

        os.makedirs(self.backup_dir, exist_ok=True)
        name = f"ckpt-{tag}.weights.h5"
        save_weights(self.model, os.path.join(self.backup_dir, name))
        with atomic_write(self._metadata_path, "w") as handle:
            json.dump({"epoch": next_epoch, "file": name}, handle)
        self._remove_weights(keep=name)

    def _remove_weights(self, keep=None):
        for entry in os.listdir(self.backup_dir):
            if entry.startswith("ckpt-") and entry.endswith(".weights.h5") and entry != keep:
                os.remove(os.path.join(self.backup_dir, entry))

    def on_train_end(self, logs=None):
        """Deletes the backup after a normal end of training (delete_checkpoint=True)."""
        if not self.delete_checkpoint or not os.path.isdir(self.backup_dir):
            return
        if os.path.exists(self._metadata_path):
            os.remove(self._metadata_path)
        self._remove_weights()
