"""Batch statistics over the global batch for `BatchNormalization(synchronized=True)`.

Who owns what: `Replica.begin_step` arms this module with the step's gradient factor (the
shard's `sharding.gradient_factor`, 0 for a ghost shard) and `end_step` disarms it; the layer
asks `armed()` and, while a data-parallel training step runs on several ranks, gathers its
per-rank moments with `all_gather` (one collective forward, one backward) and combines them
instead of using its local ones. Outside such a step
(one process, world size 1, inference, evaluate, predict) nothing is armed and the layer
computes exactly as `synchronized=False`.

Why the factor in the backward: rank r's weight gradients are scaled by `c_r = W·b_r/b`
before DDP averages them (`sharding`), so that the global gradient is that of
`F = Σ_q c_q L_q / W`. A global sum `S = Σ_r s_r` feeds every rank's loss, so `∂F/∂s_r` is
`Σ_q c_q ∂L_q/∂S / W`: the backward multiplies the incoming gradient by this rank's factor,
sums it across ranks, and divides by the factor again (the weight hook multiplies it back);
a gather is the same with each rank keeping its own slice of the summed gradient.
With equal shards this is the plain sum of gradients; uneven tails and ghost shards (whose
samples enter the sums with weight 0) stay exact.
"""

import torch
import torch.distributed as dist

from . import collectives, shared_memory


class _Step:
    factor = None  # the armed step's gradient factor; None outside a data-parallel step


_STEP = _Step()


def arm(factor):
    """Marks a data-parallel training step with gradient factor `factor` (0: ghost shard)."""
    _STEP.factor = float(factor)


def disarm():
    _STEP.factor = None


def armed():
    """True while a data-parallel training step runs on more than one rank."""
    return _STEP.factor is not None and collectives.world_size() > 1


def is_ghost():
    """True when the armed step's shard is a ghost (its samples must weigh 0)."""
    return _STEP.factor == 0.0


def all_gather(tensor, what="BatchNormalization batch statistics"):
    """Every rank's `tensor`, stacked by rank `(W, *shape)`; differentiable (see the module's
    docstring)."""
    return _AllGather.apply(tensor, _STEP.factor, what)


class _AllGather(torch.autograd.Function):
    @staticmethod
    def forward(ctx, tensor, factor, what):
        ctx.factor, ctx.what = factor, what
        tensor = tensor.detach().contiguous()
        group = shared_memory.for_tensor(tensor)  # CPU ranks of one host: shared memory
        if group is not None:
            return group.all_gather(tensor, what)
        parts = [torch.empty_like(tensor) for _ in range(collectives.world_size())]
        collectives.run(what, lambda: dist.all_gather(parts, tensor))
        return torch.stack(parts)

    @staticmethod
    def backward(ctx, grad):
        scaled = (grad * ctx.factor).contiguous()
        group = shared_memory.for_tensor(scaled)
        if group is not None:
            group.all_reduce_sum_(scaled, what=f"the gradient of {ctx.what}")
        else:
            collectives.run(f"the gradient of {ctx.what}",
                            lambda: dist.all_reduce(scaled, op=dist.ReduceOp.SUM))
        mine = scaled[collectives.rank()]
        if ctx.factor == 0.0:  # a ghost's samples weigh 0: nothing flows back
            return torch.zeros_like(mine), None, None
        return mine / ctx.factor, None, None
