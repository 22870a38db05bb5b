"""What the trainer asks of a strategy: sharded epoch iterators and a stop flag every rank
agrees on. The trainer's loop stays the same loop.

Who owns what: `data_parallel(model)` answers None in one process (the trainer then does
nothing different). Otherwise a `DataParallel`, one per `fit` / `evaluate` / `predict` call:
- makes every rank's random generators alike at the start of `fit` (rank 0's torch, numpy
  and Python states, broadcast once), and draws everything the training data draws while
  loading batches (array permutations, a `Sequence`'s or DataLoader's shuffled order) from
  one torch generator state every rank shares, apart from what steps draw (dropout on
  uneven parts), so the data's order stays alike on every rank;
- wraps the trainer's `EpochIterator`s, so that every data form shards the same way: an
  array adapter's `local_range` seam takes this rank's contiguous part of every global
  batch (`sharding.local_bounds`); a stream (generator, `Sequence`, DataLoader: every rank
  iterates the same stream of global batches) has this rank's part cut from each batch it
  yields (`streams`), after a cheap check that the ranks' streams agree;
- while a training batch is out, the `Replica` routes the model's forward through DDP and
  scales gradients by the part's factor; a ghost part's effect on metrics and statistics is
  undone when the batch ends; when an epoch ends (its batches are exhausted, or every rank
  stopped early), the running loss, the metrics' accumulators and (training)
  BatchNormalization statistics are reduced across ranks, so the logs the trainer then
  reads (History, progress bar, `evaluate`) are global and identical on every rank;
- OR-reduces `stop_training`: after the first batch of every epoch and at each epoch's end,
  and after every batch when some callback has batch hooks (a stop asked in
  `on_train_batch_end` on one rank stops all ranks at that batch); silences the progress
  bar off rank 0 and leaves the file-writing callbacks to rank 0.

`predict` shards its inputs alike and gathers the outputs in the input's order on every rank
(its one-batch shortcut for small arrays runs whole on each rank: the same numbers).
Not covered: a custom `train_step` that sets `stop_training` on one rank only (ranks then
part ways at the next collective, which times out with a clear error), and one that returns
`metric.result()` values computed inside the step (its rank's numbers).
"""

import contextlib
import random

import numpy as np
import torch

from . import collectives, reduction, replica, sharding, streams
from .strategy import get_strategy, has_strategy


_WRITERS = ("ModelCheckpoint", "CSVLogger", "TensorBoard")  # by name: no upward import
_END = object()


def data_parallel(model, training=True):
    """A `DataParallel` for `model` when it trains under a strategy with several processes:
    the strategy of the current `scope()`, or the one the model was compiled under
    (`model.distribute_strategy`); None otherwise."""
    strategy = get_strategy() if has_strategy() else getattr(model, "distribute_strategy",
                                                             None)
    if strategy is None or strategy.num_replicas_in_sync == 1:
        return None
    return DataParallel(strategy, model, training)


class DataParallel:
    """One `fit`, `evaluate` or `predict` call spread over the strategy's processes.

    Args:
        strategy: the `Strategy` (its rank, world size and device).
        model: the built model.
        training: True for `fit` (DDP replica, shared generators, BatchNormalization
            averaging).
    """

    def __init__(self, strategy, model, training):
        self.strategy, self.model = strategy, model
        self._world, self._rank = strategy.num_replicas_in_sync, strategy.rank
        self._part = (1.0, False)
        self._ghosts = []  # predict: which steps' parts were ghosts
        self._train = None  # fit's sharded training iterator
        self.replica = replica.Replica(model, strategy.device) if training else None
        self.loading_rng = None  # the torch state the training data draws from
        if training:
            self.loading_rng = _share_generators()

    def generators(self):
        """The generators the loop draws from besides the global ones, for the trainer's
        `TrainingState` (a backup saves them): the shared loading generator of `fit`."""
        return {} if self.loading_rng is None else {"data-parallel loading": _Loading(self)}

    def callbacks(self, callbacks):
        """The callbacks this rank runs: all of them on rank 0; elsewhere those that write
        files (ModelCheckpoint, CSVLogger, TensorBoard and their subclasses) are left out, so
        each file is written once. The epoch's logs are global and identical on every rank,
        so EarlyStopping, ReduceLROnPlateau & co. decide alike everywhere; the stop flag's
        reduction after `on_epoch_end` also makes every rank wait for rank 0's files."""
        if self.strategy.is_chief or not callbacks:
            return callbacks
        return [c for c in callbacks
                if not any(k.__name__ in _WRITERS for k in type(c).__mro__)]

    def verbose(self, verbose):
        """The progress bar's verbosity: as asked on rank 0, silent elsewhere."""
        return verbose if self.strategy.is_chief else 0

    def iterator(self, epoch_iterator, training=False, predicting=False):
        """`epoch_iterator` sharded across ranks (None stays None); `training` for fit's
        training data (steps through the DDP replica), `predicting` for predict's inputs
        (no reduction; `gather` puts the outputs together)."""
        if epoch_iterator is None:
            return None
        adapter = epoch_iterator.adapter
        if hasattr(adapter, "local_range"):
            adapter.local_range = self._local_range  # the array adapter's sharding seam
        sharded = _ShardedIterator(self, epoch_iterator, training, predicting)
        if training:
            self._train = sharded
        return sharded

    def _local_range(self, start, stop):
        lo, hi, factor, ghost = sharding.local_bounds(start, stop, self._world, self._rank)
        self._part = (factor, ghost)
        return lo, hi

    def shard_stream(self, pairs, num_batches, source, epoch):
        """This rank's part of every global batch a stream yields (`pairs`: the trainer's
        `(step, batch)`); the epoch's first batch is checked alike on every rank, and a stream
        of unknown length is confirmed step by step (`streams`)."""
        owner = type(self.strategy).__name__
        if num_batches is None:
            pairs = streams.agreed(pairs, source, owner)
        checked = False
        for step, data in pairs:
            if not checked:
                streams.check_alike(streams.signature(data, num_batches), source, epoch, owner)
                checked = True
            lo, hi = self._local_range(0, streams.batch_len(data))
            yield step, streams.take_rows(data, lo, hi)

    def run_batch(self, training, predicting=False):
        """Arms the coming step for the part just cut; returns `end_batch`'s argument."""
        factor, ghost = self._part
        if predicting:
            self._ghosts.append(ghost)
            return None
        if training and self.replica is not None:
            return self.replica.begin_step(factor, ghost)
        return replica.snapshot(self.model) if ghost else None

    def end_batch(self, training, saved):
        if training and self.replica is not None:
            self.replica.end_step(saved)
        elif saved is not None:
            replica.restore(self.model, saved)

    def end_epoch(self, training):
        """Sums the running loss and metric accumulators across ranks (then every rank's
        logs are the global ones); averages BatchNormalization statistics after training."""
        compiled = getattr(self.model, "compiled", None)
        if compiled is not None:
            reduction.all_reduce_running_state(compiled)
        # metrics tracked as attributes (the compiled ones live in the running state)
        reduction.all_reduce_metrics([m for m in self.model.metrics if
                                      hasattr(m, "variables") or hasattr(m, "state_names")])
        if training and self.replica is not None:
            self.replica.average_statistics()

    def end_train_batch(self, flag, batch_hooks):
        """`stop_training` after a training batch, alike on every rank (call after the
        batch's callbacks, before acting on the flag).

        Args:
            flag: this rank's `model.stop_training`.
            batch_hooks: whether some callback overrides a training batch hook (decided
                from the full callback list, so alike on every rank): then the flag is
                OR-reduced after every batch; otherwise after each epoch's first batch only
                (a stop asked in `on_train_begin` / `on_epoch_begin`).

        Returns:
            The flag every rank acts on. When it is set, the epoch ends here on every rank
            (this batch's part is settled and the epoch's sums are reduced), so the logs the
            trainer reads are global.
        """
        sharded = self._train
        if batch_hooks or sharded.batches_out == 1:
            flag = reduction.should_stop(flag)
        if flag:
            sharded.finish_epoch()
        return flag

    def gather(self, outputs):
        """`predict`'s outputs of every rank, in the input's order: `outputs` holds this
        rank's output per step (a tensor, or a list for several outputs); returns the
        global batches' outputs per step, ghost parts dropped, identical on every rank."""
        local = [None if ghost else _to_numpy(o) for o, ghost in zip(outputs, self._ghosts)]
        everyone = collectives.all_gather_object(local, what="predict's outputs")
        steps = []
        for step in range(len(local)):
            parts = [rank_outputs[step] for rank_outputs in everyone
                     if rank_outputs[step] is not None]
            if isinstance(parts[0], list):
                steps.append([torch.as_tensor(np.concatenate(p)) for p in zip(*parts)])
            else:
                steps.append(torch.as_tensor(np.concatenate(parts)))
        return steps

    def should_stop(self, flag):
        """OR of `model.stop_training` over ranks (call at each epoch's end)."""
        return reduction.should_stop(flag)

    def close(self):
        """Removes the replica's hooks (the model is as before) and waits for every rank."""
        if self.replica is not None:
            self.replica.close()


def _share_generators():
    """Rank 0's torch, numpy and Python generator states on every rank (one broadcast);
    returns the torch state, which the training data then draws from."""
    states = collectives.broadcast_object(
        (torch.get_rng_state(), np.random.get_state(), random.getstate()),
        what="the random generators")
    torch.set_rng_state(states[0])
    np.random.set_state(states[1])
    random.setstate(states[2])
    return states[0]


class _Loading:
    """`loading_rng` with torch.Generator's `get_state` / `set_state` (what resume uses)."""

    def __init__(self, parallel):
        self._parallel = parallel

    def get_state(self):
        return self._parallel.loading_rng.clone()

    def set_state(self, state):
        self._parallel.loading_rng = state.clone()


class _ShardedIterator:
    """An `EpochIterator` whose epochs are this rank's parts, reduced at their end.

    `batches_out` counts the batches handed out this epoch; `finish_epoch()` settles the
    batch that is out and reduces the epoch once (when it is exhausted, or earlier when
    every rank stops)."""

    def __init__(self, parallel, inner, training, predicting=False):
        self._parallel, self._inner, self._training = parallel, inner, training
        self._predicting = predicting
        self._stream = not hasattr(inner.adapter, "local_range")
        self._epoch, self._open = -1, False
        self._out = None  # (batch number, what end_batch needs) while a batch is out
        self._count = 0
        self.batches_out = 0

    def __getattr__(self, name):  # num_batches, on_epoch_end, adapter, ...
        return getattr(self._inner, name)

    def enumerate_epoch(self, skip=0):
        self._epoch, self._open, self.batches_out = self._epoch + 1, True, 0
        # the batches a resumed epoch already trained are drawn and dropped now, as
        # EpochIterator does, before the trainer restores the snapshot's generators
        return self._batches(self._pairs(skip))

    def _batches(self, pairs):
        parallel, training = self._parallel, self._training
        for step, data in pairs:
            self._count += 1
            number = self._count
            self._out = number, parallel.run_batch(training, self._predicting)
            self.batches_out += 1
            try:
                yield step, data
            finally:  # also when the trainer leaves the epoch early: settles this batch only
                self._end_batch(number)
        self.finish_epoch()

    def _pairs(self, skip):
        if self._training and self._parallel.loading_rng is not None:
            with _loading(self._parallel):
                pairs = self._inner.enumerate_epoch(skip)
            pairs = _drawing_from(self._parallel, pairs)
        else:
            pairs = self._inner.enumerate_epoch(skip)
        if self._stream:
            pairs = self._parallel.shard_stream(pairs, self._inner.num_batches,
                                                self._inner.adapter.name, self._epoch)
        return pairs

    def _end_batch(self, number=None):
        if self._out is not None and number in (None, self._out[0]):
            saved, self._out = self._out[1], None
            self._parallel.end_batch(self._training, saved)

    def finish_epoch(self):
        """Settles the batch that is out and reduces the epoch's sums (once per epoch)."""
        self._end_batch()
        if self._open:
            self._open = False
            if not self._predicting:
                self._parallel.end_epoch(self._training)


def _drawing_from(parallel, pairs):
    """`pairs`, each fetched while torch's generator holds the state every rank shares for
    loading (what steps draw, e.g. dropout on parts of different sizes, stays apart)."""
    pairs = iter(pairs)
    while True:
        with _loading(parallel):
            item = next(pairs, _END)
        if item is _END:
            return
        yield item


@contextlib.contextmanager
def _loading(parallel):
    """Torch's generator holds the shared loading state inside (then this rank's again)."""
    own = torch.get_rng_state()
    torch.set_rng_state(parallel.loading_rng)
    try:
        yield
    finally:
        parallel.loading_rng = torch.get_rng_state()
        torch.set_rng_state(own)


def _to_numpy(outputs):
    if isinstance(outputs, (list, tuple)):
        return [o.detach().cpu().numpy() for o in outputs]
    return outputs.detach().cpu().numpy()
