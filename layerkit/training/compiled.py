"""Compiled: the losses, the metrics and their running epoch means, as `compile` set them.

Who owns what: `Model.compile` creates one; the model's steps call `loss(...)` and
`update(...)`; the trainer calls `reset()` at each epoch/evaluation start and `results()`
when it needs numbers. Metrics given as strings ('acc', 'accuracy', 'mae', ...) are
resolved on the first batch, when the shapes of targets and outputs are known (the
tf.keras rule), and keep the string the user wrote as their name. A model with several
outputs gets one loss per output (a single loss is shared), per-output log keys
`<output>_loss` / `<output>_<metric>` and a total `loss` = Σ weight · output loss.
`compile(loss=None)` is for models whose loss comes from `add_loss` (the book's VAE): they
train without targets, and `loss(...)` answers None.
"""

import numpy as np
import torch

from .. import config
from .. import losses as losses_module
from .. import metrics as metrics_module
from ..metrics.metric import StateVariable


class Compiled:
    """Losses and metrics of a compiled model.

    Args:
        loss: name, function or Loss object; or a list / dict (by output name) of them;
            None when the model adds its own losses (`add_loss`).
        metrics: list of metric identifiers (not sample-weighted), or a list of lists /
            dict by output name for several outputs.
        weighted_metrics: the same, for metrics that use sample weights.
        loss_weights: float, list or dict (by output name) scaling each output's loss.
        output_names: names of the model's outputs (one entry for a single output).
    """

    def __init__(self, loss, metrics=None, weighted_metrics=None, loss_weights=None,
                 output_names=("output",)):
        self.output_names = list(output_names)
        self.needs_targets = loss is not None
        # per-output logs only when there are per-output losses
        self.multi = len(self.output_names) > 1 and self.needs_targets
        self.loss_fns = [] if loss is None else [
            losses_module.get(l) for l in self._per_output(loss, "loss")]
        weights = self._per_output(1.0 if loss_weights is None else loss_weights,
                                   "loss_weights")
        self.loss_weights = [float(w) for w in weights]
        self._metric_ids = self._per_output_lists(metrics, "metrics")
        self._weighted_ids = self._per_output_lists(weighted_metrics, "weighted_metrics")
        for identifier in sum(self._metric_ids + self._weighted_ids, []):
            _check_metric_name(identifier)
        self.metrics = None  # per output: [(metric, weighted), ...], built on the first batch
        self._shapes = None  # per output: (target shape, output shape) the metrics resolved on
        self._loss_sums = None
        self._seen = 0
        self._added = {}  # add_metric name -> (sum, count), float64

    @property
    def metric_identifiers(self):
        """Per output, the `metrics` as compile received them (names, functions, Metrics)."""
        return [list(ids) for ids in self._metric_ids]

    @property
    def weighted_metric_identifiers(self):
        """Per output, the `weighted_metrics` as compile received them."""
        return [list(ids) for ids in self._weighted_ids]

    @property
    def loss_fn(self):
        """The loss of the first output (for one-output target checks); None without one."""
        return self.loss_fns[0] if self.loss_fns else None

    def _per_output(self, value, what):
        n = len(self.output_names)
        if isinstance(value, dict):
            unknown = set(value) - set(self.output_names)
            if unknown:
                raise ValueError(
                    f"compile({what}=...): unknown output names {sorted(unknown)}; the "
                    f"model's outputs are {self.output_names}"
                )
            default = 1.0 if what == "loss_weights" else None
            values = [value.get(name, default) for name in self.output_names]
            if what == "loss" and any(v is None for v in values):
                missing = [n_ for n_, v in zip(self.output_names, values) if v is None]
                raise ValueError(f"compile(loss=dict): no loss given for outputs {missing}")
            return values
        if isinstance(value, (list, tuple)):
            if len(value) != n:
                raise ValueError(
                    f"compile({what}=list of {len(value)}): the model has {n} output(s) "
                    f"{self.output_names}; give one entry per output"
                )
            return list(value)
        return [value] * n

    def _per_output_lists(self, value, what):
        n = len(self.output_names)
        if value is None:
            return [[] for _ in range(n)]
        if isinstance(value, dict):
            return [_as_list(v) for v in self._per_output(value, what)]
        value = _as_list(value)
        if self.multi and value and all(isinstance(v, (list, tuple)) for v in value):
            return [list(v) for v in self._per_output(value, what)]
        return [list(value) for _ in range(n)]

    def build(self, y_true, y_pred):
        """Resolves metric identifiers from the first batch's shapes."""
        if y_true is None:
            if any(self._metric_ids + self._weighted_ids):
                raise ValueError(
                    "compile(metrics=...): metrics compare outputs with targets, but this "
                    "model trains without targets (y=None); drop the metrics or pass y")
            self._build_from_shapes([])
            return
        self._build_from_shapes([(tuple(yt.shape), tuple(yp.shape))
                                 for yt, yp in zip(_listed(y_true), _listed(y_pred))])

    def _build_from_shapes(self, shapes_per_output):
        self.metrics = []
        self._shapes = [tuple(map(tuple, shapes)) for shapes in shapes_per_output]
        for i, shapes in enumerate(self._shapes):
            entries = [(metrics_module.resolve(m, *shapes), False) for m in self._metric_ids[i]]
            entries += [(metrics_module.resolve(m, *shapes), True)
                        for m in self._weighted_ids[i]]
            self.metrics.append(entries)
        names = self.metric_names()
        if len(set(names)) != len(names):
            raise ValueError(f"compile(metrics=...): metric names must be unique, got {names}")

    def loss(self, y_true, y_pred, sample_weight=None):
        """The total loss: Σ weight · loss of each output (a 0-dim tensor); None when
        compiled without a loss."""
        if not self.loss_fns:
            return None
        if not self.multi:
            value = self.loss_fns[0](y_true, y_pred, sample_weight=sample_weight)
            return value if self.loss_weights[0] == 1.0 else value * self.loss_weights[0]
        losses = [fn(yt, yp, sample_weight=sample_weight) for fn, yt, yp in
                  zip(self.loss_fns, _listed(y_true), _listed(y_pred))]
        # kept for the running sums only: detached, so a captured step's gradient pass
        # does not consume what this attribute still holds
        self._last_output_losses = [value.detach() for value in losses]
        return sum(w * l for w, l in zip(self.loss_weights, losses))

    def update(self, loss, y_true, y_pred, sample_weight=None):
        """Adds one batch to the running means (no device synchronisation)."""
        self.track_loss(loss, _listed(y_pred)[0].shape[0])
        self.update_metrics(y_true, y_pred, sample_weight)

    def track_loss(self, loss, batch):
        """Adds the batch's total loss (and per-output losses), weighted by `batch`."""
        if self._loss_sums is None:
            size = 1 + (len(self.output_names) if self.multi else 0)
            self._loss_sums = torch.zeros(size, dtype=torch.float64, device=loss.device)
        if self.multi:
            values = [loss] + list(self._last_output_losses)
            self._loss_sums.add_(torch.stack([v.detach() for v in values]), alpha=batch)
        else:
            self._loss_sums.add_(loss.detach(), alpha=batch)  # one op per step
        self._seen += batch

    def prepare_capture(self, device):
        """Makes the running loss sums and the sample count tensors before a captured step
        (`training.captured_step`) adds to them in place inside its graph: a Python int
        count there would be a constant of the graph and recompile it at every step."""
        if self._loss_sums is None:
            size = 1 + (len(self.output_names) if self.multi else 0)
            self._loss_sums = torch.zeros(size, dtype=torch.float64, device=device)
        if not isinstance(self._seen, torch.Tensor):
            self._seen = torch.tensor(float(self._seen), dtype=torch.float64, device=device)

    def update_metrics(self, y_true, y_pred, sample_weight=None):
        """Updates the compiled metrics (built from the first batch's shapes)."""
        if self.metrics is None:
            self.build(y_true, y_pred)
        for entries, yt, yp in zip(self.metrics, _listed(y_true), _listed(y_pred)):
            for metric, weighted in entries:
                metric.update_state(yt, yp, sample_weight=sample_weight if weighted else None)

    def update_added_metrics(self, pairs):
        """Adds one step's `add_metric` values: `(name, tensor)` pairs, each averaged over
        its elements and over the steps of the epoch (tf.keras's `Mean` per name)."""
        for name, value in pairs:
            value = value.detach().to(torch.float64)
            sums = self._added.get(name)
            if sums is None:
                sums = self._added[name] = torch.zeros(2, dtype=torch.float64,
                                                       device=value.device)
            sums[0] += value.sum()
            sums[1] += value.numel()

    def add_to_loss_mean(self, value, weight=1):
        """Adds `value` (the total loss) with `weight` to the running loss mean only (what
        a custom step's `loss_tracker.update_state(loss)` does)."""
        value = value.detach() if isinstance(value, torch.Tensor) else torch.as_tensor(value)
        if self._loss_sums is None:
            size = 1 + (len(self.output_names) if self.multi else 0)
            self._loss_sums = torch.zeros(size, dtype=torch.float64, device=value.device)
        if isinstance(weight, torch.Tensor):
            weight = weight.detach().to(torch.float64).sum()
            self._loss_sums[:1].add_(value.to(torch.float64) * weight)
        elif not self.multi:
            self._loss_sums.add_(value, alpha=weight)  # shape (1,): one op
        else:
            self._loss_sums[:1].add_(value, alpha=weight)
        self._seen = self._seen + weight

    def mean_loss(self):
        """The running mean of the total loss, a 0-dim tensor (0 before any batch)."""
        if self._loss_sums is None or not isinstance(self._seen, torch.Tensor) and \
                not self._seen:
            return torch.zeros((), dtype=torch.float64)
        return self._loss_sums[0] / self._seen

    def reset_loss_mean(self):
        self._loss_sums = None
        self._seen = 0

    def reset_metrics(self):
        for entries in self.metrics or []:
            for metric, _ in entries:
                metric.reset_state()

    def reset(self):
        self.reset_loss_mean()
        self.reset_metrics()
        self._added = {}

    def has_metrics(self):
        """Whether compile was given any metrics."""
        return any(self._metric_ids + self._weighted_ids)

    def metric_results(self):
        """{name: 0-dim tensor} of the compiled metrics (no synchronisation)."""
        return {self._key(i, metric.name): metric.result()
                for i, entries in enumerate(self.metrics or []) for metric, _ in entries}

    def running_state(self):
        """The running sums as numpy arrays: what a resume in mid-epoch must restore.

        Returns:
            {'seen': ..., 'loss_sums': ..., 'shape_true_<i>' / 'shape_pred_<i>': the shapes
            output i's metrics resolved on, 'metric_<i>_<j>_<state>': accumulators}; only
            'seen' before the first batch.
        """
        state = {"seen": np.asarray(float(self._seen) if isinstance(self._seen, torch.Tensor)
                                    else self._seen, dtype=np.int64)}
        if self._loss_sums is not None:
            state["loss_sums"] = self._loss_sums.cpu().numpy()
        for i, (true_shape, pred_shape) in enumerate(self._shapes or []):
            state[f"shape_true_{i}"] = np.asarray(true_shape, dtype=np.int64)
            state[f"shape_pred_{i}"] = np.asarray(pred_shape, dtype=np.int64)
        for i, entries in enumerate(self.metrics or []):
            for j, (metric, _) in enumerate(entries):
                for name in metric.state_names():
                    state[f"metric_{i}_{j}_{name}"] = getattr(metric, name).cpu().numpy()
        for name, sums in self._added.items():
            state[f"metric_added_{name}"] = sums.cpu().numpy()
        return state

    def restore_running_state(self, state, where="the checkpoint"):
        """Sets the running sums to a `running_state()` snapshot (metrics built as saved).

        Raises:
            ValueError: when the snapshot does not fit these losses and metrics.
        """
        self.reset()
        self._seen = int(state["seen"])
        device = config.device()
        if "loss_sums" in state:
            sums = torch.as_tensor(state["loss_sums"], dtype=torch.float64, device=device)
            expected = 1 + (len(self.output_names) if self.multi else 0)
            if tuple(sums.shape) != (expected,):
                raise ValueError(f"{where}: running loss sums of shape {tuple(sums.shape)}; "
                                 f"this model needs ({expected},)")
            self._loss_sums = sums
        built = "shape_true_0" in state  # False: a snapshot from before the first batch,
        if built and self.metrics is None:  # whose metrics stay as reset() left them
            self._build_from_shapes([
                (tuple(int(d) for d in state[f"shape_true_{i}"]),
                 tuple(int(d) for d in state[f"shape_pred_{i}"]))
                for i in range(len(self.output_names))])
        for i, entries in enumerate(self.metrics if built and self.metrics else []):
            for j, (metric, _) in enumerate(entries):
                for name in metric.state_names():
                    _restore_accumulator(metric, name, state.get(f"metric_{i}_{j}_{name}"),
                                         device, where)
        self._added = {key[len("metric_added_"):]: torch.as_tensor(
            value, dtype=torch.float64, device=device).reshape(2)
            for key, value in state.items() if key.startswith("metric_added_")}

    def metric_names(self):
        compiled = [] if self.metrics is None else [
            self._key(i, metric.name) for i, entries in enumerate(self.metrics)
            for metric, _ in entries]
        return compiled + list(self._added)

    def _key(self, output_index, name):
        return f"{self.output_names[output_index]}_{name}" if self.multi else name

    def results(self):
        """{'loss': mean, ('<output>_loss': ...,) name: value, ...} as floats (one sync)."""
        keys = ["loss"] + ([f"{n}_loss" for n in self.output_names] if self.multi else [])
        named = [(self._key(i, metric.name), metric.result())
                 for i, entries in enumerate(self.metrics or []) for metric, _ in entries]
        sums = [] if self._loss_sums is None else [self._loss_sums]
        read = _floats([self._seen] + sums + [v for _, v in named] + list(self._added.values()))
        seen, rest = read[0][0], read[1:]
        loss_sums = rest.pop(0) if sums else None
        logs = {k: s / seen for k, s in zip(keys, loss_sums)} if seen and loss_sums else \
            {k: 0.0 for k in keys}
        for (name, _), (value,) in zip(named, rest[:len(named)]):
            logs[name] = value
        for name, (total, count) in zip(self._added, rest[len(named):]):
            logs[name] = total / count if count else 0.0
        return logs


_SHAPE_RESOLVED = {"acc", "accuracy", "ce", "crossentropy"}


def _check_metric_name(identifier):
    """Unknown metric names fail at compile, before any step changes the weights."""
    if isinstance(identifier, str) and identifier.lower() not in _SHAPE_RESOLVED:
        metrics_module.get(identifier)


def _restore_accumulator(metric, name, value, device, where):
    current = getattr(metric, name)
    if value is None or tuple(np.shape(value)) != tuple(current.shape):
        raise ValueError(f"{where}: the running state of metric {metric.name!r} ({name}) is "
                         f"{'missing' if value is None else np.shape(value)}; expected shape "
                         f"{tuple(current.shape)}")
    if isinstance(current, StateVariable):  # custom metrics hold on to their variables
        current.assign(torch.as_tensor(value))
        return
    setattr(metric, name, torch.as_tensor(value, dtype=current.dtype, device=device))


def _listed(value):
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _as_list(value):
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


# ---------------------------------------------------------------------------- step views
class LossTracker(metrics_module.Metric):
    """`Model.metrics[0]`, named 'loss': the running mean of the total loss. The built-in
    steps weight each batch by its size; a custom step's `update_state(loss)` weights it
    by one, as Keras 3's `Mean` does."""

    def __init__(self, compiled):
        super().__init__(name="loss")
        self._compiled = compiled

    def update_state(self, values, sample_weight=None):
        self._compiled.add_to_loss_mean(values, 1 if sample_weight is None else sample_weight)

    def result(self):
        return self._compiled.mean_loss()

    def reset_state(self):
        self._compiled.reset_loss_mean()


class CompiledMetrics:
    """The metrics given to compile, as one metric (Keras 3's `compile_metrics`; tf.keras's
    `model.compiled_metrics`): `update_state(y, y_pred, sample_weight)` builds them on the
    first batch and updates each; `result()` is a dict by metric name."""

    name = "compile_metrics"

    def __init__(self, compiled):
        self._compiled = compiled

    @property
    def metrics(self):
        return [m for entries in self._compiled.metrics or [] for m, _ in entries]

    def update_state(self, y_true, y_pred, sample_weight=None):
        self._compiled.update_metrics(y_true, y_pred, sample_weight)

    def result(self):
        return self._compiled.metric_results()

    def reset_state(self):
        self._compiled.reset_metrics()

    def reset_states(self):
        self.reset_state()


class CompiledLoss:
    """tf.keras's `model.compiled_loss(y, y_pred, sample_weight, regularization_losses)`:
    the compiled loss plus the given regularization losses; it adds the total to the
    'loss' mean, weighted by the batch size (tf.keras's rule)."""

    def __init__(self, compiled):
        self._compiled = compiled

    def __call__(self, y_true, y_pred, sample_weight=None, regularization_losses=None):
        loss = self._compiled.loss(y_true, y_pred, sample_weight)
        if loss is None:
            loss = torch.zeros((), device=_listed(y_pred)[0].device)
        for term in regularization_losses or ():
            loss = loss + (term if term.dim() == 0 else term.sum())
        self._compiled.track_loss(loss, _listed(y_pred)[0].shape[0])
        return loss


class StepLogs:
    """What the built-in steps return: the running logs of a `Compiled`, read (one device
    synchronisation) only when someone asks."""

    __slots__ = ("compiled",)

    def __init__(self, compiled):
        self.compiled = compiled

    def results(self):
        return self.compiled.results()


def _floats(values):
    """Each value (a tensor or a number) as a list of Python floats, reading the tensors
    of each device in one transfer (one synchronisation, not one per value)."""
    out = [None] * len(values)
    by_device = {}
    for i, value in enumerate(values):
        if isinstance(value, torch.Tensor):
            by_device.setdefault(value.device, []).append(i)
        else:
            out[i] = [float(value)]
    for indices in by_device.values():
        flat = torch.cat([values[i].detach().reshape(-1).to(torch.float64)
                          for i in indices]).tolist()
        start = 0
        for i in indices:
            out[i], start = flat[start:start + values[i].numel()], start + values[i].numel()
    return out


def python_logs(logs):
    """A step's logs as a flat dict of Python floats (nested dicts flattened, as Keras 3)."""
    if type(logs) is StepLogs:
        return logs.results()
    result = {}
    for key, value in (logs or {}).items():
        if isinstance(value, dict):
            result.update(python_logs(value))
            continue
        try:
            value = float(value)
        except (TypeError, ValueError, RuntimeError):
            pass
        result[key] = value
    return result
