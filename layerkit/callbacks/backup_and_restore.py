"""BackupAndRestore: resume an interrupted `fit` exactly where its last backup stands.

Who owns what: this callback writes and reads the backup; the place in training is the
trainer's `TrainingState`: the callback saves `training_state.snapshot()` and, on restart,
hands the saved snapshot back with `training_state.restore(snapshot)` in `on_train_begin`;
`saving.checkpoint` owns the snapshot's file layout.

Files in `backup_dir` (each written atomically, in this order, so a process killed at any
instant leaves a consistent backup; the temporary file it was writing is removed when
training restarts):
- `ckpt-<tag>.weights.h5`: weights and optimizer state in Keras 3's layout, plus the group
  `resume_state` (epoch, batches done, generator states and, inside an epoch, the
  epoch-start generators and the running loss/metric sums; plain numeric datasets);
- `training_metadata.json`: `{"epoch": <epoch>, "step": <batches done in it>, "file":
  "ckpt-<tag>.weights.h5"}`, replaced only once the file it names is complete; older
  backup files are then removed.

Exactness: on CPU a resumed run ends bitwise identical to an uninterrupted one, for
backups at epoch ends and every N batches (`save_freq=N`) alike, when the data are arrays
or a Sequence (see `training.state`). Other callbacks' own state (EarlyStopping's
patience counter, ReduceLROnPlateau's wait) is not part of the backup, as in Keras.

Data parallelism (a strategy with several processes): every rank runs this callback. At
each backup every rank hands its own part of the snapshot (its generators: Dropout draws
differ per rank; inside an epoch also its running sums and BatchNormalization statistics,
which differ per rank until the epoch's end reduces them) to rank 0 through one
collective, and rank 0 alone writes the one backup, all ranks' parts in the same atomic
file (`resume_state/ranks/<r>`), so a run killed at any instant, on any rank, leaves a
backup whose parts belong together (rather than one file per rank, which a kill between
two ranks' writes would leave out of step). On restart rank 0 tidies the folder and reads
the metadata, which it hands to every rank; then every rank loads the weights and
optimizer state and its own part of the snapshot from the file (the folder must be
readable by every rank: one machine, or a shared file system). A backup written by N
processes resumes only with N processes: any other number raises a ValueError on every
rank (the ckpt file still loads anywhere with `model.load_weights`).
"""

import json
import numbers
import os

from ..training.callback import Callback

METADATA = "training_metadata.json"


class BackupAndRestore(Callback):
    """Backs up the model every epoch (or every N batches) and restores it when fit restarts.

    Args:
        backup_dir: folder for the backup (created when needed; use one per training run).
        save_freq: 'epoch', or an int N: also back up every N batches. Either way a
            resumed run ends bitwise identical to an uninterrupted one on CPU.
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
        self._batches = 0
        if save_freq != "epoch":
            self.on_train_batch_end = self._count_batch

    @property
    def _metadata_path(self):
        return os.path.join(self.backup_dir, METADATA)

    def on_train_begin(self, logs=None):
        """Restores the backup (weights, optimizer, generators), if any, and tells fit where
        to resume."""
        rank, world = _place(self.model)
        if world == 1:
            metadata = self._tidy()
        else:  # one decision, rank 0's, for every rank
            from ..distribute import chief

            metadata = chief.chief_decides(self._tidy, "BackupAndRestore's metadata")
        if metadata is None:
            return
        path = os.path.join(self.backup_dir, metadata["file"])
        snapshot = self._load(path, rank, world)
        self.training_state.restore(snapshot, path)

    def _tidy(self):
        """Removes what a killed run left half-done; returns the metadata (or None)."""
        from ..saving.atomic import remove_stale

        if os.path.isdir(self.backup_dir):
            remove_stale(self.backup_dir)  # what a killed run was writing
        metadata = self._read_metadata()
        if os.path.isdir(self.backup_dir):
            # a run killed between writing a backup and removing the one before leaves a
            # file the metadata does not name: debris, whichever of the two it is
            self._remove_weights(keep=metadata["file"] if metadata else None)
        return metadata

    def _load(self, path, rank, world):
        """Loads weights and optimizer state from `path` and returns this rank's snapshot;
        under data parallelism a failure on any rank raises on every rank."""
        from ..distribute import collectives
        from ..saving import checkpoint, load_weights

        error = None
        try:
            load_weights(self.model, path)
            snapshot = checkpoint.read_backup(path).for_rank(rank, world, path)
        except (OSError, ValueError) as caught:
            if world == 1:
                raise
            error = caught
        if world > 1 and collectives.any_across_ranks(error is not None,
                                                      what="BackupAndRestore's restore"):
            raise error or ValueError(f"BackupAndRestore: another rank could not restore "
                                      f"{path} (its error is in its output)")
        return snapshot

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

    def on_epoch_end(self, epoch, logs=None):
        self._backup(self.training_state.snapshot())

    def _count_batch(self, batch, logs=None):
        self._batches += 1
        if self._batches >= self.save_freq:
            self._batches = 0
            self._backup(self.training_state.snapshot())

    def _backup(self, snapshot):
        _, world = _place(self.model)
        if world > 1:  # every rank's generators, written once by rank 0
            from ..distribute import chief

            parts = chief.gather(snapshot.rank_part(), "BackupAndRestore's generator states")
            if parts is None:
                return
            snapshot = snapshot.gathered(parts)
        self._write(snapshot)

    def _write(self, snapshot):
        from ..saving import checkpoint
        from ..saving.atomic import atomic_write

        os.makedirs(self.backup_dir, exist_ok=True)
        tag = f"{snapshot.epoch}-{snapshot.step}" if snapshot.step else f"{snapshot.epoch}"
        name = f"ckpt-{tag}.weights.h5"
        with atomic_write(os.path.join(self.backup_dir, name)) as tmp:
            checkpoint.save_backup(self.model, tmp, snapshot)
        with atomic_write(self._metadata_path, "w") as handle:
            json.dump({"epoch": snapshot.epoch, "step": snapshot.step, "file": name}, handle)
        self._remove_weights(keep=name)

    def _remove_weights(self, keep=None):
        for entry in os.listdir(self.backup_dir):
            if entry.startswith("ckpt-") and entry.endswith(".weights.h5") and entry != keep:
                os.remove(os.path.join(self.backup_dir, entry))

    def on_train_end(self, logs=None):
        """Deletes the backup after a normal end of training (delete_checkpoint=True; rank 0
        under data parallelism)."""
        if not self.delete_checkpoint or not os.path.isdir(self.backup_dir) or \
                _place(self.model)[0] != 0:
            return
        if os.path.exists(self._metadata_path):
            os.remove(self._metadata_path)
        self._remove_weights()


def _place(model):
    """(rank, number of processes) of the fit `model` runs: (0, 1) without a strategy."""
    from ..distribute.strategy import strategy_of

    strategy = strategy_of(model)
    return strategy.rank, strategy.num_replicas_in_sync
