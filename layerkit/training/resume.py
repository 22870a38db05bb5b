"""Resume points: where an interrupted `fit` stood, so that a restart continues exactly.

Who owns what: the checkpointing callbacks (BackupAndRestore, ModelCheckpoint with
`load_weights_on_restart`) `capture` a point when they save and `write` it into an HDF5
group `resume_state` of the file; on restart they `read` it back, call `start` (the
generators as they were when the epoch began) and hand the point to `fit` as
`model._resume_point`. `fit` starts its epoch loop at `point.epoch`; in that epoch it draws
the shuffle, skips the `point.step` batches already trained, and calls `continue_epoch`,
which sets the generators and the running loss/metric sums as they were after those
batches. Weights and optimizer state travel in the same file, beside this group.

Exactness (CPU): the permutation of an epoch is drawn from the generators of its start and
every Dropout mask from the generators of the moment, so restoring both reproduces the
uninterrupted run's random numbers bit for bit, whether the point sits at an epoch end
(`step == 0`) or after batch `step` of epoch `epoch`. Sources whose batches are not a
function of these generators (a plain Python generator that is consumed, DataLoader worker
processes) resume at the same batch index but cannot replay the same data.
"""

GROUP = "resume_state"


class ResumePoint:
    """A place in training: epoch, batches done in it, generator states and running sums.

    Args:
        epoch: 0-based epoch to run (from its start when `step` is 0).
        step: batches of `epoch` already trained.
        rng: generator states at this point (`saving.rng_state.capture`).
        epoch_rng: generator states when `epoch` began (needed when `step > 0`).
        running: the model's running loss/metric sums (`Compiled.running_state`), when
            `step > 0`.
    """

    def __init__(self, epoch, step=0, rng=None, epoch_rng=None, running=None):
        self.epoch, self.step = int(epoch), int(step)
        self.rng, self.epoch_rng, self.running = rng, epoch_rng, running

    @classmethod
    def capture(cls, model, epoch, step=0, epoch_rng=None):
        """The point of `model` now: at the start of `epoch`, or after `step` of its batches.

        Args:
            epoch_rng: the generator states captured when `epoch` began (required when
                `step > 0`: they replay its shuffle).
        """
        from ..saving import rng_state

        if step and epoch_rng is None:
            raise ValueError("ResumePoint.capture: a point inside an epoch needs the "
                             "generator states of the epoch's start (epoch_rng)")
        running = model.compiled.running_state() if step else None
        return cls(epoch, step, rng_state.capture(model), epoch_rng if step else None,
                   running)

    def write(self, group):
        """Stores the point in the HDF5 group `group` (attributes and numeric datasets)."""
        from ..saving import rng_state

        group.attrs["epoch"] = self.epoch
        group.attrs["step"] = self.step
        rng_state.write(group.create_group("rng"), self.rng)
        if self.step:
            rng_state.write(group.create_group("epoch_rng"), self.epoch_rng)
            running = group.create_group("running")
            for name, value in self.running.items():
                running.create_dataset(name, data=value)

    @classmethod
    def read(cls, reader, group):
        """Reads a point written by `write` through an `h5_format.Reader`.

        Raises:
            ValueError: for missing or malformed fields, naming them.
        """
        from ..saving import rng_state

        epoch, step = (_attr_count(group, name, reader.where) for name in ("epoch", "step"))
        rng = rng_state.read(reader, reader.group(group, "rng"))
        if not step:
            return cls(epoch, 0, rng)
        epoch_rng = rng_state.read(reader, reader.group(group, "epoch_rng"))
        running_group = reader.group(group, "running")
        running = {name: reader.dataset(running_group, name) for name in running_group}
        if "seen" not in running:
            raise ValueError(f"{reader.where}: {GROUP}/running has no 'seen' dataset")
        return cls(epoch, step, rng, epoch_rng, running)

    def start(self, model, where="the checkpoint"):
        """Sets the generators as they were when `epoch` began (or at the point itself)."""
        from ..saving import rng_state

        rng_state.restore(self.epoch_rng if self.step else self.rng, model, where)

    def continue_epoch(self, model, where="the checkpoint"):
        """After the epoch's shuffle is drawn and `step` batches skipped: sets the generators
        and running sums as they were after those batches."""
        from ..saving import rng_state

        rng_state.restore(self.rng, model, where)
        model.compiled.restore_running_state(self.running, where)


def read_point(reader, handle):
    """The `resume_state` group of an open HDF5 file as a ResumePoint, or None."""
    group = reader.group(handle, GROUP, required=False)
    return None if group is None else ResumePoint.read(reader, group)


def _attr_count(group, name, where):
    from ..saving import rng_state

    value = rng_state.attr_int(group, name, where)
    if value < 0:
        raise ValueError(f"{where}: {group.name} attribute {name!r} must be a non-negative "
                         f"integer, received {value!r}")
    return value
