"""Batch statistics over the global batch for `BatchNormalization(synchronized=True)`.

Who owns what: `Replica.begin_step` arms this module with the step's gradient factor (the
shard's `sharding.gradient_factor`, 0 for a ghost shard) and `end_step` disarms it; the layer
asks `armed()` and, while a data-parallel training step runs on several ranks, sums its
per-rank moments with `all_reduce_sum` instead of using its local ones. Outside such a step
(one process, world size 1, inference, evaluate, predict) nothing is armed and the layer
computes exactly as `synchronized=False`.

Why the factor in the backward: rank r's weight gradients are scaled by `c_r = W·b_r/b`
before DDP averages them (`sharding`), so that the global gradient is that of
`F = Σ_q c_q L_q / W`. A global sum `S = Σ_r s_r` feeds every rank's loss, so `∂F/∂s_r` is
`Σ_q c_q ∂L_q/∂S / W`: the backward multiplies the incoming gradient by this rank's factor,
sums it across ranks, and divides by the factor again (the weight hook multiplies it back).
With equal shards this is the plain sum of gradients; uneven tails and ghost shards (whose
samples enter the sums with weight 0) stay exact.
"""

import torch
import torch.distributed as dist

from . import collectives


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


def all_reduce_sum(tensor, what="BatchNormalization batch statistics"):
    """The sum of `tensor` over ranks, differentiable (see the module's docstring)."""
    return _AllReduceSum.apply(tensor, _STEP.factor, what)


class _AllReduceSum(torch.autograd.Function):
    @staticmethod
    def forward(ctx, tensor, factor, what):
        ctx.factor, ctx.what = factor, what
        total = tensor.detach().clone().contiguous()
        collectives.run(what, lambda: dist.all_reduce(total, op=dist.ReduceOp.SUM))
        return total

    @staticmethod
    def backward(ctx, grad):
        scaled = (grad * ctx.factor).contiguous()
        collectives.run(f"the gradient of {ctx.what}",
                        lambda: dist.all_reduce(scaled, op=dist.ReduceOp.SUM))
        if ctx.factor == 0.0:  # a ghost's samples weigh 0: nothing flows back
            return torch.zeros_like(grad), None, None
        return scaled / ctx.factor, None, None
