"""What the trainer asks of a strategy: sharded epoch iterators and a stop flag every rank
agrees on. The trainer's loop stays the same loop.

Who owns what: `data_parallel(model)` answers None in one process (the trainer then does
nothing different). Otherwise a `DataParallel`, one per `fit` / `evaluate` call:
- makes every rank shuffle alike (rank 0's torch generator state, broadcast once);
- wraps the trainer's `EpochIterator`s: each array adapter's `local_range` seam takes this
  rank's contiguous part of every global batch (`sharding.local_bounds`); while a training
  batch is out, the `Replica` routes the model's forward through DDP and scales gradients by
  the part's factor; a ghost part's effect on metrics and statistics is undone when the
  trainer asks for the next batch; when an epoch's batches are exhausted, the running loss,
  the metrics' accumulators and (training) BatchNormalization statistics are reduced across
  ranks, so the logs the trainer then reads (History, progress bar, `evaluate`) are global
  and identical on every rank;
- OR-reduces `stop_training` at each epoch's end, silences the progress bar off rank 0 and
  leaves the file-writing callbacks to rank 0.

`predict` shards its inputs alike and gathers the outputs in the input's order on every rank
(its one-batch shortcut for small arrays runs whole on each rank: the same numbers).
Not sharded yet: streams (generators, `Sequence`s, DataLoaders) raise; a custom
`train_step` that returns `metric.result()` values computed inside the step reports its
rank's numbers.
"""

import numpy as np
import torch

from . import collectives, reduction, replica, sharding
from .strategy import get_strategy, has_strategy


_WRITERS = ("ModelCheckpoint", "CSVLogger", "TensorBoard")  # by name: no upward import


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
    """One `fit` or `evaluate` call spread over the strategy's processes.

    Args:
        strategy: the `Strategy` (its rank, world size and device).
        model: the built model.
        training: True for `fit` (DDP replica, BatchNormalization averaging).
    """

    def __init__(self, strategy, model, training):
        self.strategy, self.model = strategy, model
        self._world, self._rank = strategy.num_replicas_in_sync, strategy.rank
        self._part = (1.0, False)
        self._ghosts = []  # predict: which steps' parts were ghosts
        self.replica = replica.Replica(model, strategy.device) if training else None
        if training:  # the epochs' permutations come from torch's generator: share it
            state = collectives.broadcast_object(torch.get_rng_state(),
                                                 what="the shuffling generator")
            torch.set_rng_state(state)

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
        if not hasattr(adapter, "local_range"):
            raise ValueError(
                f"{type(self.strategy).__name__}: data-parallel fit/evaluate shards arrays "
                "(numpy, tensors, pandas, sparse) and received a stream "
                f"({type(adapter).__name__}). Pass arrays, or shard the stream yourself and "
                "train each rank's part"
            )
        adapter.local_range = self._local_range  # the adapter's sharding seam
        return _ShardedIterator(self, epoch_iterator, training, predicting)

    def _local_range(self, start, stop):
        lo, hi, factor, ghost = sharding.local_bounds(start, stop, self._world, self._rank)
        self._part = (factor, ghost)
        return lo, hi

    def run_batch(self, training, predicting=False):
        """Arms the coming step for the part the adapter just cut; returns `end_batch`'s
        argument."""
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


class _ShardedIterator:
    """An `EpochIterator` whose epochs are this rank's parts, reduced at their end."""

    def __init__(self, parallel, inner, training, predicting=False):
        self._parallel, self._inner, self._training = parallel, inner, training
        self._predicting = predicting

    def __getattr__(self, name):  # num_batches, on_epoch_end, adapter, ...
        return getattr(self._inner, name)

    def enumerate_epoch(self, skip=0):
        parallel, training = self._parallel, self._training
        for step, data in self._inner.enumerate_epoch(skip):
            saved = parallel.run_batch(training, self._predicting)
            try:
                yield step, data
            finally:
                parallel.end_batch(training, saved)
        if not self._predicting:
            parallel.end_epoch(training)


def _to_numpy(outputs):
    if isinstance(outputs, (list, tuple)):
        return [o.detach().cpu().numpy() for o in outputs]
    return outputs.detach().cpu().numpy()
