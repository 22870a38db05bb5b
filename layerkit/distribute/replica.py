"""A model bound to DistributedDataParallel for one `fit`, without changing the model.

Who owns what: the model keeps its own `train_step` (built-in or overridden) and its class;
`Replica` only adds
- a DDP instance over the model's parameters (it broadcasts rank 0's weights when created and
  all-reduces gradients during backward, `find_unused_parameters=False`): a forward hook on
  the model hands each training forward's outputs through DDP, which prepares DDP's reducer
  for the coming backward exactly as `DDP(model)(x)` would, so `self(x)` inside any step
  takes part;
- on CPU ranks of one host, a DDP communication hook that averages each gradient bucket
  through shared memory instead of gloo (`shared_memory`: about 20x cheaper per step), also
  used for the epoch-end reductions while the replica is open; NCCL and several hosts keep
  DDP's default all-reduce. In a world of one there is no DDP at all (it would average over
  one rank: the identity), only the hooks below;
- one gradient hook per trainable weight that scales the gradient by the shard's factor
  before DDP averages it (`sharding.gradient_factor`: uneven batches stay exact);
- the ghost step: a rank with no sample in a batch runs the step on a stand-in sample with
  factor 0 and puts its metrics and non-trainable weights (BatchNormalization statistics)
  back as they were.
Rebuild the replica when the set of trainable weights changes (freeze + recompile).
"""

import weakref

import numpy as np
import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from . import collectives, reduction, shared_memory, sync_batch


class _Outputs(nn.Module):
    """What DDP wraps: the model's weights, and a forward that returns its argument."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, outputs):
        return outputs


class Replica:
    """Binds `model` to the process group for data-parallel training steps.

    Args:
        model: a built layerkit model (its weights exist).
        device: this rank's device (`Strategy.device`).

    Example:
        >>> replica = Replica(model, strategy.device)
        >>> logs = replica.train_step(data, shard)   # shard from strategy.epoch_shards
        >>> replica.close()
    """

    def __init__(self, model, device):
        self.model = model
        self._factor = 1.0
        self._in_step = False
        self._ddp, self._shared = None, None
        self._handles = [w.register_hook(self._scaled) for w in model.trainable_weights]
        if collectives.world_size() == 1:
            return
        self._ddp = DistributedDataParallel(
            _Outputs(model), device_ids=[device] if device.type == "cuda" else None,
            find_unused_parameters=False, gradient_as_bucket_view=True)
        self._handles.append(model.register_forward_hook(self._through_ddp))
        nbytes = sum(w.numel() * w.element_size() for w in model.trainable_weights)
        # collective: every rank gets a group (CPU ranks of one host, gloo), or none does
        self._shared = shared_memory.open_group(nbytes, device)
        if self._shared is not None:
            self._ddp.register_comm_hook(self._shared, shared_memory.ddp_hook)
            weakref.finalize(self, self._shared.close)

    @property
    def all_reduce(self):
        """How gradients are all-reduced: 'shared memory', 'ddp' (DDP's default: gloo or
        NCCL) or 'none' (a world of one)."""
        if self._ddp is None:
            return "none"
        return "shared memory" if self._shared is not None else "ddp"

    def _through_ddp(self, module, args, outputs):
        if self._in_step and torch.is_grad_enabled():
            return self._ddp(outputs)
        return None

    def _scaled(self, grad):
        return None if self._factor == 1.0 else grad * self._factor

    def train_step(self, data, shard):
        """Runs `model.train_step(data)` on this rank's shard; returns the step's logs.

        Args:
            data: the shard's batch, as the model's step takes it.
            shard: the `sharding.Shard` that `data` was cut from (its factor, ghost flag).
        """
        saved = self.begin_step(shard.factor, shard.ghost)
        try:
            return self.model.train_step(data)
        finally:
            self.end_step(saved)

    def begin_step(self, factor, ghost):
        """Arms DDP and the gradient factor for the coming step; returns what `end_step`
        needs (the state a ghost step must not change)."""
        self._factor, self._in_step = factor, True
        sync_batch.arm(0.0 if ghost else factor)
        if self._ddp is not None and getattr(self.model, "jit_compile", False):
            # a torch.compile'd forward does not run the model's forward hook: DDP's
            # reducer is readied for the step's backward here (it reads no outputs)
            self._ddp(None)
        return snapshot(self.model) if ghost else None

    def end_step(self, saved):
        """Disarms; after a ghost step, puts metrics and statistics back."""
        self._factor, self._in_step = 1.0, False
        sync_batch.disarm()
        if saved is not None:
            restore(self.model, saved)

    def average_statistics(self):
        """Averages the non-trainable floating weights (BatchNormalization moving mean and
        variance) across ranks: call at each epoch's end."""
        weights = [w for w in self.model.non_trainable_weights if w.is_floating_point()]
        reduction.average_(weights, what="BatchNormalization statistics")

    def close(self):
        """Removes the hooks; the model is exactly as before."""
        for handle in self._handles:
            handle.remove()
        self._handles = []
        collectives.barrier("the end of training")
        if self._shared is not None:
            self._shared.close()


def snapshot(model):
    """Copies of what a step changes besides the trainable weights: non-trainable weights
    (BatchNormalization statistics), metric accumulators and the compiled running sums.
    Left out: the weights of `synchronized=True` layers, which a ghost step updates with the
    global batch's statistics exactly as the other ranks do."""
    kept = {id(w) for m in model.modules() if getattr(m, "synchronized", False) is True
            for w in m.non_trainable_weights}
    tensors = [w for w in model.non_trainable_weights if id(w) not in kept]
    for metric in model.metrics:  # the compiled ones are in the running state
        if hasattr(metric, "variables") or hasattr(metric, "state_names"):
            tensors.extend(reduction.metric_variables(metric))
    compiled = getattr(model, "compiled", None)
    running = None if compiled is None else {  # copies, not views of live accumulators
        key: np.array(value) for key, value in compiled.running_state().items()}
    return tensors, [t.detach().clone() for t in tensors], running


def restore(model, saved):
    """Puts back a `snapshot`."""
    tensors, values, running = saved
    with torch.no_grad():
        for tensor, value in zip(tensors, values):
            tensor.copy_(value)
    if running is not None:
        model.compiled.restore_running_state(running)
