"""The process group and the few collectives the engine needs, each with a timeout and a
message that says what was being synchronised.

Who owns what: `initialize` creates the default process group once per process (NCCL on
`cuda:LOCAL_RANK` when CUDA is available, gloo otherwise); every other function is a no-op
(or the identity) when the process is alone, so single-process code never branches.
A collective that fails (a peer raised and exited, or the timeout passed) raises
`CollectiveError` naming this rank and the operation instead of torch's backend traceback.
"""

import datetime

import torch
import torch.distributed as dist

DEFAULT_TIMEOUT = 300.0  # seconds: long enough for a slow epoch on another rank


class CollectiveError(RuntimeError):
    """A collective operation failed or timed out on this rank."""


class _Group:
    """The settings `initialize` chose (one per process)."""

    timeout = DEFAULT_TIMEOUT
    device = torch.device("cpu")


_GROUP = _Group()


def initialize(env, timeout=None):
    """Joins the process group described by `env` (a `ProcessEnvironment`); idempotent.

    Args:
        env: the process's rank, world size, local rank and rendezvous address.
        timeout: seconds any collective may wait for the others (default 300).

    Returns:
        The torch device this rank computes on (`cuda:LOCAL_RANK` or `cpu`).
    """
    timeout = DEFAULT_TIMEOUT if timeout is None else float(timeout)
    if timeout <= 0:
        raise ValueError(f"initialize: timeout must be positive seconds, received {timeout}")
    use_cuda = torch.cuda.is_available() and torch.cuda.device_count() > env.local_rank
    device = torch.device("cuda", env.local_rank) if use_cuda else torch.device("cpu")
    if use_cuda:
        torch.cuda.set_device(device)
    if env.world_size > 1 and not dist.is_initialized():
        try:
            dist.init_process_group(
                "nccl" if use_cuda else "gloo",
                init_method=f"tcp://{_host(env.master_addr)}:{env.master_port}",
                rank=env.rank, world_size=env.world_size,
                timeout=datetime.timedelta(seconds=timeout),
            )
        except (RuntimeError, ValueError) as e:
            raise CollectiveError(
                f"rank {env.rank} of {env.world_size}: could not join the process group at "
                f"{env.master_addr}:{env.master_port} within {timeout:g} s ({e}). Check that "
                "every rank was started and can reach MASTER_ADDR:MASTER_PORT"
            ) from None
    _GROUP.timeout, _GROUP.device = timeout, device
    return device


def world_size():
    """Number of processes in the group (1 when not distributed)."""
    return dist.get_world_size() if dist.is_initialized() else 1


def rank():
    """This process's rank (0 when not distributed)."""
    return dist.get_rank() if dist.is_initialized() else 0


def timeout():
    """Seconds a collective may wait for the other ranks (the group's timeout)."""
    return _GROUP.timeout


def shutdown():
    """Leaves the process group (a no-op when none was joined)."""
    if dist.is_initialized():
        dist.destroy_process_group()


def all_reduce_sum_(tensors, what):
    """Sums `tensors` in place across ranks, with one collective per dtype.

    Args:
        tensors: floating or integer tensors (any shapes, any device).
        what: what is being reduced, for the error message ("metric states").

    Returns:
        `tensors`, now holding the sums over all ranks.
    """
    if world_size() == 1 or not tensors:
        return tensors
    by_dtype = {}
    for tensor in tensors:
        by_dtype.setdefault(tensor.dtype, []).append(tensor)
    for dtype, group in by_dtype.items():
        flat = torch.cat([t.detach().reshape(-1).to(_GROUP.device) for t in group])
        _run(what, lambda: dist.all_reduce(flat, op=dist.ReduceOp.SUM))
        offset = 0
        with torch.no_grad():
            for tensor in group:
                n = tensor.numel()
                tensor.copy_(flat[offset:offset + n].reshape(tensor.shape))
                offset += n
    return tensors


def any_across_ranks(flag, what="the stop flag"):
    """True on every rank when `flag` is true on at least one (OR-reduction)."""
    if world_size() == 1:
        return bool(flag)
    value = torch.tensor([1 if flag else 0], dtype=torch.int32, device=_GROUP.device)
    _run(what, lambda: dist.all_reduce(value, op=dist.ReduceOp.MAX))
    return bool(value.item())


def broadcast_object(obj, what, src=0):
    """Rank `src`'s picklable `obj`, on every rank."""
    if world_size() == 1:
        return obj
    box = [obj]
    _run(what, lambda: dist.broadcast_object_list(box, src=src, device=_GROUP.device))
    return box[0]


def all_gather_object(obj, what):
    """Every rank's picklable `obj`, as a list by rank (on every rank)."""
    if world_size() == 1:
        return [obj]
    gathered = [None] * world_size()
    _run(what, lambda: dist.all_gather_object(gathered, obj))
    return gathered


def barrier(what):
    """Waits until every rank reaches the same barrier."""
    if world_size() > 1:
        _run(what, dist.barrier)


def run(what, operation):
    """Runs the collective `operation()`; a failure or timeout raises `CollectiveError`
    naming this rank and `what` was being synchronised."""
    _run(what, operation)


def _run(what, operation):
    try:
        operation()
    except (RuntimeError, dist.DistError) as e:
        raise CollectiveError(
            f"rank {rank()} of {world_size()}: synchronising {what} failed or timed out "
            f"(timeout {_GROUP.timeout:g} s). Another rank probably raised an error or "
            f"stopped early: its traceback is in that rank's output. ({type(e).__name__}: "
            f"{str(e).splitlines()[0] if str(e) else ''})"
        ) from None


def _host(address):
    """Brackets an IPv6 address for a tcp:// URL."""
    return f"[{address}]" if ":" in address and not address.startswith("[") else address
