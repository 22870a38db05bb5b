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

Data parallelism: every rank keeps its own `TrainingState`, and its generators differ from
the other ranks' (Dropout draws on each rank's part; a data-parallel fit's loading generator
comes in through `generators`). A checkpointing callback gathers every rank's
`snapshot().rank_part()`, writes `snapshot.gathered(parts)` once (its own fields are rank
0's, `ranks` holds every rank's part), and on restart each rank restores
`saved.for_rank(rank, world_size)`: its own generators and running sums.

Example:
    >>> class Save(Callback):
    ...     def on_epoch_end(self, epoch, logs=None):
    ...         self.saved = self.training_state.snapshot()   # epoch + 1, step 0
"""

import numpy as np
import torch

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
        statistics: the model's non-trainable floating weights (BatchNormalization's moving
            statistics), when `step > 0`: under data parallelism each rank's differ until
            the epoch's end averages them.
        ranks: None (one process), or every rank's part (`rank_part()`), by rank, of a
            data-parallel run; the snapshot's own fields are then rank 0's.
    """

    def __init__(self, epoch, step=0, rng=None, epoch_rng=None, running=None, ranks=None,
                 statistics=None):
        self.epoch, self.step = int(epoch), int(step)
        self.rng, self.epoch_rng, self.running = rng, epoch_rng, running
        self.statistics = statistics
        self.ranks = None if ranks is None else list(ranks)
        if self.step and (epoch_rng is None or running is None):
            raise ValueError("Snapshot: a place inside an epoch (step > 0) needs the "
                             "generator states of the epoch's start (epoch_rng) and the "
                             "running sums (running)")

    @property
    def world_size(self):
        """How many processes trained together when the snapshot was taken."""
        return 1 if self.ranks is None else len(self.ranks)

    def rank_part(self):
        """What belongs to this process alone: {'rng', 'epoch_rng', 'running',
        'statistics'}."""
        return {"rng": self.rng, "epoch_rng": self.epoch_rng, "running": self.running,
                "statistics": self.statistics}

    def gathered(self, parts):
        """This snapshot with every rank's part (`parts[r]`: rank r's `rank_part()`); its
        own fields become rank 0's."""
        return Snapshot(self.epoch, self.step, ranks=parts, **parts[0])

    def for_rank(self, rank, world_size, where="the checkpoint"):
        """The snapshot rank `rank` of a run on `world_size` processes resumes from.

        Raises:
            ValueError: when the snapshot was taken on another number of processes.
        """
        if world_size != self.world_size:
            raise ValueError(
                f"{where} was written by a run on {self.world_size} process(es) and this run "
                f"has {world_size}: each process resumes with its own random generators, so "
                f"resume with {self.world_size} process(es), or delete the backup to start "
                "over (its weights load anywhere with model.load_weights)")
        if self.ranks is None:
            return self
        return Snapshot(self.epoch, self.step, **self.ranks[rank])


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
        generators: None, or {name: generator} the loop draws from besides the global ones
            and the layers' (a data-parallel fit's loading generator); see `training.rng`.
    """

    def __init__(self, model, generators=None):
        self.model = model
        self.generators = dict(generators or {})
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
        self.epoch_rng = self._capture()
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
            self._restore_rng(snapshot_rng)
        return snapshot

    def continue_epoch(self, snapshot):
        """After the resumed epoch's shuffle was drawn and `snapshot.step` batches skipped:
        sets the generators and running sums as they were after those batches."""
        self._restore_rng(snapshot.rng)
        self.model.compiled.restore_running_state(snapshot.running, self._where)
        if snapshot.statistics is not None:
            self._restore_statistics(snapshot.statistics)
        self.step = snapshot.step

    def _statistics(self):
        return [w for w in self.model.non_trainable_weights if w.is_floating_point()]

    def _restore_statistics(self, values):
        weights = self._statistics()
        if [tuple(w.shape) for w in weights] != [tuple(np.shape(v)) for v in values]:
            raise ValueError(f"{self._where}: holds {len(values)} non-trainable weights of "
                             f"shapes {[tuple(np.shape(v)) for v in values]}; the model has "
                             f"{[tuple(w.shape) for w in weights]}")
        with torch.no_grad():
            for weight, value in zip(weights, values):
                weight.copy_(torch.as_tensor(np.asarray(value)))

    def _capture(self):
        return rng.capture(self.model, self.generators)

    def _restore_rng(self, state):
        rng.restore(state, self.model, self._where, self.generators)

    # ------------------------------------------------------------------ callbacks
    def snapshot(self):
        """Where training stands now: the next epoch's start after the epoch ended, else
        after the `step` batches done in `epoch` (with the running sums).

        Returns:
            A `Snapshot` (saving writes it with `saving.checkpoint.write_snapshot`).
        """
        if self.epoch_ended:
            return Snapshot(self.epoch + 1, 0, self._capture())
        if not self.step:
            return Snapshot(self.epoch, 0, self._capture())
        running = {name: np.array(value, copy=True)  # CPU sums would alias live tensors
                   for name, value in self.model.compiled.running_state().items()}
        statistics = [w.detach().cpu().numpy().copy() for w in self._statistics()]
        return Snapshot(self.epoch, self.step, self._capture(), self.epoch_rng,
                        running, statistics=statistics)

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
