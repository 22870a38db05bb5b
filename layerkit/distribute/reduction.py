"""Global numbers from per-rank state: metrics from their raw accumulators, the stop flag,
normalisation statistics.

Never a mean of means: each rank's metric keeps sums and counts (Mean: total and count; AUC,
Precision, Recall: confusion counts per threshold), so summing those across ranks gives the
state one process would have reached on all the data, and `result()` then gives the same
number. Reduce once, when reading the results (epoch end, end of `evaluate`), not per batch.

While a replica's shared-memory group is open (CPU ranks of one host during `fit`), the sums
go through it (`shared_memory`: microseconds instead of gloo's milliseconds); otherwise
through the process group (`collectives`).
"""

import numpy as np
import torch

from . import collectives, shared_memory


def metric_variables(metric):
    """The tensors `metric` accumulates into: Keras 3's `metric.variables` where the metric
    has it, else the attributes its public `state_names()` lists (layerkit's `Metric`).

    Raises:
        TypeError: when the metric exposes neither.
    """
    variables = getattr(metric, "variables", None)
    if variables is not None:
        return list(variables)
    names = getattr(metric, "state_names", None)
    if names is None:
        raise TypeError(
            f"{type(metric).__name__} (metric '{getattr(metric, 'name', '?')}') does not "
            "expose its state: data-parallel training needs `metric.variables` or "
            "`metric.state_names()`, the tensors update_state accumulates into"
        )
    return [getattr(metric, name) for name in names()]


def all_reduce_metrics(metrics):
    """Sums every metric's state variables across ranks, in place (one collective per dtype).

    After this every rank holds the global state and `metric.result()` is the global number.
    Call it once per reading: a second call would add the ranks' sums again.

    Args:
        metrics: an iterable of metrics with `variables` (sums and counts).

    Returns:
        The metrics, reduced.
    """
    metrics = list(metrics)
    tensors = [v for metric in metrics for v in metric_variables(metric)]
    _sum_(tensors, what="metric states " +
                                ", ".join(repr(getattr(m, "name", "?")) for m in metrics))
    return metrics


def all_reduce_running_state(compiled):
    """Sums a compiled model's running loss sums, sample count and metric accumulators
    across ranks, in place, through its public `running_state()` / `restore_running_state()`.

    Args:
        compiled: `model.compiled` (the losses and metrics `compile` set).
    """
    state = compiled.running_state()
    keys = [k for k in state if k in ("seen", "loss_sums") or k.startswith("metric_")]
    # copies: running_state() may hand out views of the live accumulators
    tensors = [torch.tensor(np.array(state[k])) for k in keys]
    _sum_(tensors, what="the running loss and compiled metrics")
    state.update({k: t.numpy() for k, t in zip(keys, tensors)})
    compiled.restore_running_state(state, where="the ranks' running sums")
    return compiled


def global_results(metrics):
    """`{name: float}` of the metrics after summing their states across ranks."""
    return {metric.name: float(metric.result()) for metric in all_reduce_metrics(metrics)}


def should_stop(flag):
    """OR of `flag` over all ranks: early stopping on one rank stops every rank."""
    group = shared_memory.current()
    if group is None:
        return collectives.any_across_ranks(flag, what="stop_training")
    return bool(group.all_reduce_sum_(torch.tensor([1 if flag else 0]), "stop_training"))


def average_(tensors, what):
    """Replaces each tensor by its mean over ranks (BatchNormalization moving statistics).

    Exact for 1, 2, 4, ... ranks when the values agree (x + x = 2x in floating point).
    """
    size = collectives.world_size()
    if size == 1 or not tensors:
        return tensors
    _sum_(tensors, what=what)
    with torch.no_grad():
        for tensor in tensors:
            tensor.div_(size)
    return tensors


def _sum_(tensors, what):
    """Sums `tensors` in place across ranks: through the open shared-memory group when its
    tensors are on the CPU, else through the process group."""
    group = shared_memory.current()
    if group is None or not tensors or any(t.device.type != "cpu" for t in tensors):
        return collectives.all_reduce_sum_(tensors, what)
    return group.all_reduce_sum_list_(tensors, what)
