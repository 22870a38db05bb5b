"""Compiled: the loss, the metrics and their running epoch means, as `compile` set them.

Who owns what: `Model.compile` creates one; the model's steps call `loss(...)` and
`update(...)`; the trainer calls `reset()` at each epoch/evaluation start and `results()`
when it needs numbers. Metrics given as strings ('acc', 'accuracy', 'mae', ...) are
resolved on the first batch, when the shapes of targets and outputs are known (the
tf.keras rule), and keep the string the user wrote as their name.
"""

import torch

from .. import losses as losses_module
from .. import metrics as metrics_module


class Compiled:
    """Loss and metrics of a compiled single-output model.

    Args:
        loss: name, function or Loss object.
        metrics: list of metric identifiers (not sample-weighted).
        weighted_metrics: list of metric identifiers that use sample weights.
        loss_weights: float (or one-element list/dict) scaling the loss.
    """

    def __init__(self, loss, metrics=None, weighted_metrics=None, loss_weights=None):
        if loss is None:
            raise ValueError(
                "compile(loss=None): a loss is needed to train, e.g. "
                "loss='binary_crossentropy', 'categorical_crossentropy' or 'mse'"
            )
        self.loss_fn = losses_module.get(loss)
        self.loss_weight = _single_weight(loss_weights)
        self._metric_ids = _as_list(metrics, "metrics")
        self._weighted_ids = _as_list(weighted_metrics, "weighted_metrics")
        self.metrics = None
        self.weighted = None
        self._loss_sum = None
        self._seen = 0

    def build(self, y_true, y_pred):
        """Resolves metric identifiers from the first batch's shapes."""
        true_shape, pred_shape = tuple(y_true.shape), tuple(y_pred.shape)
        self.metrics = [metrics_module.resolve(m, true_shape, pred_shape)
                        for m in self._metric_ids]
        self.weighted = [metrics_module.resolve(m, true_shape, pred_shape)
                         for m in self._weighted_ids]
        names = self.metric_names()
        if len(set(names)) != len(names):
            raise ValueError(f"compile(metrics=...): metric names must be unique, got {names}")

    def loss(self, y_true, y_pred, sample_weight=None):
        value = self.loss_fn(y_true, y_pred, sample_weight=sample_weight)
        return value if self.loss_weight == 1.0 else value * self.loss_weight

    def update(self, loss, y_true, y_pred, sample_weight=None):
        """Adds one batch to the running means (no device synchronisation)."""
        if self.metrics is None:
            self.build(y_true, y_pred)
        batch = y_pred.shape[0]
        if self._loss_sum is None:
            self._loss_sum = torch.zeros((), dtype=torch.float64, device=loss.device)
        self._loss_sum.add_(loss.detach(), alpha=batch)
        self._seen += batch
        for metric in self.metrics:
            metric.update_state(y_true, y_pred)
        for metric in self.weighted:
            metric.update_state(y_true, y_pred, sample_weight=sample_weight)

    def reset(self):
        self._loss_sum = None
        self._seen = 0
        for metric in (self.metrics or []) + (self.weighted or []):
            metric.reset_state()

    def metric_names(self):
        if self.metrics is None:
            return []
        return [m.name for m in self.metrics + self.weighted]

    def results(self):
        """{'loss': mean, name: value, ...} as Python floats (one sync)."""
        logs = {"loss": float(self._loss_sum) / max(self._seen, 1) if self._seen else 0.0}
        for metric in (self.metrics or []) + (self.weighted or []):
            logs[metric.name] = float(metric.result())
        return logs


def _as_list(value, what):
    if value is None:
        return []
    if isinstance(value, dict):
        raise ValueError(
            f"compile({what}=dict): per-output {what} need a multi-output model; "
            f"give a list for a single-output model, received {value!r}"
        )
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _single_weight(loss_weights):
    if loss_weights is None:
        return 1.0
    if isinstance(loss_weights, dict):
        loss_weights = list(loss_weights.values())
    if isinstance(loss_weights, (list, tuple)):
        if len(loss_weights) != 1:
            raise ValueError(
                f"compile(loss_weights={loss_weights!r}): a single-output model takes one "
                "weight"
            )
        loss_weights = loss_weights[0]
    return float(loss_weights)
