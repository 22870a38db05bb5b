"""TrainingState: where a `fit` stands, owned by the trainer, read and restored by callbacks.

Who owns what: the trainer creates one `TrainingState` per `fit` / `evaluate` / `predict`
call and keeps it current (epoch, batches done in the epoch, the generators as the epoch
began, the latest step's logs); `CallbackList` hands it to every callback
(`Callback.set_training_state`, read as `callback.training_state`). A checkpointing
callback saves `training_state.snapshot()` beside the weights and, on restart, calls
`training_state.restore(snapshot)`; `fit` then resumes at the snapshot's epoch and batch.
Saving owns the file layout of a snapshot (`saving.checkpoint`), `rng` the generators.

Exactness (CPU): the permutation of an epoch is drawn from the generators of its start and
every Dropout mask from the generators of the moment, so restoring both reproduces the
uninterrupted run's random numbers bit for bit, whether the snapshot sits at an epoch end
(`step == 0`) or after batch `step` of epoch `epoch`. Sources whose batches are not a
function of these generators (a plain Python generator that is consumed, DataLoader worker
processes) resume at the same batch index but cannot replay the same data.

Example:
    >>> class Save(Callback):
    ...     def on_epoch_end(self, epoch, logs=None):
    ...         self.saved = self.training_state.snapshot()   # epoch + 1, step 0
"""

import numpy as np

from . import rng
from .compiled import python_logs


class Snapshot:
    """A place in training: epoch, batches done in it, generator states and running sums.

    Args:
        epoch: 0-based epoch to run (from its start when `step` is 0).
        step: batches of `epoch` already trained.
        rng: generator states at this point (`training.rng.capture`).
        epoch_rng: generator states when `epoch` began (needed when `step > 0`).
        running: the model's running loss/metric sums (`Compiled.running_state()`), when
            `step > 0`.
    """

    def __init__(self, epoch, step=0, rng=None, epoch_rng=None, running=None):
        self.epoch, self.step = int(epoch), int(step)
        self.rng, self.epoch_rng, self.running = rng, epoch_rng, running
        if self.step and (epoch_rng is None or running is None):
            raise ValueError("Snapshot: a place inside an epoch (step > 0) needs the "
                             "generator states of the epoch's start (epoch_rng) and the "
                             "running sums (running)")


class TrainingState:
    """The trainer's record of where training stands.

    Attributes:
        epoch: the current 0-based epoch.
        step: batches of `epoch` done so far.
        epoch_ended: True from the end of the epoch's batches (and validation) until the
            next epoch begins: a snapshot then points at the next epoch's start.
        epoch_rng: the generator states captured when `epoch` began.
        latest_logs: what the latest step returned (read lazily by `logs()`).

    Args:
        model: the model being trained (its seeded layers' generators and running sums
            belong to a snapshot).
    """

    def __init__(self, model):
        self.model = model
        self.epoch = 0
        self.step = 0
        self.epoch_ended = False
        self.epoch_rng = None
        self.latest_logs = None
        self._restored = None
        self._where = "the checkpoint"

    # ------------------------------------------------------------------ the trainer
    def begin_epoch(self, epoch):
        """Called by the trainer before `on_epoch_begin`: records the generators that the
        epoch's shuffle and masks will draw from."""
        self.epoch, self.step, self.epoch_ended = epoch, 0, False
        self.epoch_rng = rng.capture(self.model)
        self.latest_logs = None

    def end_epoch(self):
        """Called by the trainer before `on_epoch_end`."""
        self.epoch_ended = True

    def logs(self):
        """The latest step's logs as floats (`{}` before the first step); reading them
        synchronises with the device, so the progress bar asks only when it redraws."""
        return {} if self.latest_logs is None else python_logs(self.latest_logs)

    def take_restored(self):
        """The snapshot a callback restored during `on_train_begin` (None without one),
        with the generators set as they were when its epoch began; the trainer resumes
        there and calls `continue_epoch` once the epoch's trained batches are skipped."""
        snapshot, self._restored = self._restored, None
        if snapshot is not None:
            snapshot_rng = snapshot.epoch_rng if snapshot.step else snapshot.rng
            rng.restore(snapshot_rng, self.model, self._where)
        return snapshot

    def continue_epoch(self, snapshot):
        """After the resumed epoch's shuffle was drawn and `snapshot.step` batches skipped:
        sets the generators and running sums as they were after those batches."""
        rng.restore(snapshot.rng, self.model, self._where)
        self.model.compiled.restore_running_state(snapshot.running, self._where)
        self.step = snapshot.step

    # ------------------------------------------------------------------ callbacks
    def snapshot(self):
        """Where training stands now: the next epoch's start after the epoch ended, else
        after the `step` batches done in `epoch` (with the running sums).

        Returns:
            A `Snapshot` (saving writes it with `saving.checkpoint.write_snapshot`).
        """
        if self.epoch_ended:
            return Snapshot(self.epoch + 1, 0, rng.capture(self.model))
        if not self.step:
            return Snapshot(self.epoch, 0, rng.capture(self.model))
        running = {name: np.array(value, copy=True)  # CPU sums would alias live tensors
                   for name, value in self.model.compiled.running_state().items()}
        return Snapshot(self.epoch, self.step, rng.capture(self.model), self.epoch_rng,
                        running)

    def restore(self, snapshot, where="the checkpoint"):
        """Makes `fit` resume at `snapshot` (call it from `on_train_begin`, after loading
        the weights and optimizer state saved with it).

        Args:
            snapshot: a `Snapshot`.
            where: its source (a file name), for messages.
        """
        if not isinstance(snapshot, Snapshot):
            raise TypeError(f"TrainingState.restore: expected a Snapshot, received "
                            f"{type(snapshot).__name__}")
        self._restored, self._where = snapshot, where
