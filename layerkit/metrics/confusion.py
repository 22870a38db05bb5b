"""Confusion-matrix metrics: Precision, Recall and AUC (Keras 3's threshold algorithms).

A prediction is positive at threshold t when `p > t`. AUC's default thresholds are evenly
spaced, so (as Keras does) each prediction is dropped into its bucket
`ceil(p·(T-1)) - 1` with one scatter-add and the counts per threshold are reversed cumulative
sums: O(N + T) instead of comparing every prediction with every threshold.
"""

import numpy as np
import torch

from layerkit import config
from layerkit.losses.base import squeeze_or_expand_to_same_rank
from layerkit.metrics.metric import Metric, divide_no_nan

NEG_INF = -1e10


def _parse_thresholds(thresholds, default):
    if thresholds is None:
        return [default]
    values = list(thresholds) if isinstance(thresholds, (list, tuple)) else [thresholds]
    invalid = [t for t in values if t is None or t < 0 or t > 1]
    if invalid:
        raise ValueError(f"thresholds must be in [0, 1], received {invalid}")
    return [float(t) for t in values]


def evenly_spaced(thresholds):
    n = len(thresholds)
    if n < 3:
        return False
    even = np.arange(n, dtype=np.float32) / (n - 1)
    return bool(np.allclose(thresholds, even, atol=config.epsilon()))


def _filter_top_k(x, k):
    """Keeps the top-k scores of the last axis and sets the rest to NEG_INF."""
    keep = torch.zeros_like(x).scatter_(-1, x.topk(k, dim=-1).indices, 1.0)
    return x * keep + NEG_INF * (1.0 - keep)


def prepare(metric, y_true, y_pred, sample_weight, top_k=None, class_id=None):
    """Converts, aligns, filters; returns `(labels, preds, weights-or-None)` in float."""
    y_pred = metric.convert(y_pred)
    y_true = metric.convert(y_true, y_pred.device)
    metric.follow(y_pred.device)
    y_pred, y_true = squeeze_or_expand_to_same_rank(y_pred, y_true)
    if sample_weight is not None:
        sample_weight = metric.convert(sample_weight, y_pred.device).unsqueeze(-1)
        _, sample_weight = squeeze_or_expand_to_same_rank(y_true, sample_weight,
                                                          expand_rank_1=False)
    if top_k is not None:
        y_pred = _filter_top_k(y_pred, top_k)
    if class_id is not None:
        if y_pred.dim() == 1:
            raise ValueError(
                f"{metric.name}: class_id needs y_pred of shape (num_samples, num_classes), "
                f"received shape {tuple(y_pred.shape)}"
            )
        y_true = y_true[..., class_id:class_id + 1]
        y_pred = y_pred[..., class_id:class_id + 1]
    return y_true, y_pred, sample_weight


def combine_weights(sample_weight, label_weights, preds):
    """Broadcast product of sample and per-label weights over `preds`, or None."""
    weights = None
    if sample_weight is not None:
        weights = sample_weight.broadcast_to(preds.shape)
    if label_weights is not None:
        label_weights = label_weights.broadcast_to(preds.shape)
        weights = label_weights if weights is None else weights * label_weights
    return weights


def threshold_counts(labels, preds, thresholds, weights=None, multi_label=False):
    """TP, FP and totals by direct comparison `preds > t` for every threshold.

    Args:
        labels: float targets (nonzero = positive), shaped like `preds`.
        preds: predictions; flattened unless `multi_label` (then `(N, L)`).
        thresholds: 1-D tensor of T thresholds.
        weights: optional weights shaped like `preds`.
        multi_label: keep the label axis, giving `(T, L)` counts.

    Returns:
        `(tp, fp, positives, negatives)`; positives/negatives are the weighted totals.
    """
    positive = (labels != 0).to(preds.dtype)
    if not multi_label:
        positive, preds = positive.reshape(-1), preds.reshape(-1)
        weights = None if weights is None else weights.reshape(-1)
    w = torch.ones_like(preds) if weights is None else weights
    shape = (-1,) + (1,) * preds.dim()
    predicted = (preds.unsqueeze(0) > thresholds.reshape(shape)).to(preds.dtype)  # (T, N[, L])
    tp = (predicted * (positive * w)).sum(dim=1)
    fp = (predicted * ((1.0 - positive) * w)).sum(dim=1)
    return tp, fp, (positive * w).sum(dim=0), ((1.0 - positive) * w).sum(dim=0)


def bucket_counts(labels, preds, num_thresholds, weights=None, multi_label=False):
    """TP, FP and totals for evenly spaced thresholds via bucketing (Keras's fast path)."""
    positive = (labels != 0).to(preds.dtype)
    preds = preds.clamp(0.0, 1.0)
    if weights is None:
        weights = torch.ones_like(preds)
    true_w, false_w = positive * weights, (1.0 - positive) * weights
    buckets = (torch.ceil(preds * (num_thresholds - 1)) - 1).clamp_min(0).long()
    if multi_label:  # (N, L) → per label rows (L, N)
        true_w, false_w, buckets = true_w.T, false_w.T, buckets.T
    else:
        true_w, false_w, buckets = (t.reshape(1, -1) for t in (true_w, false_w, buckets))
    zeros = torch.zeros(buckets.shape[0], num_thresholds, dtype=preds.dtype, device=preds.device)
    tp = zeros.scatter_add(1, buckets, true_w).flip(1).cumsum(1).flip(1)
    fp = zeros.scatter_add(1, buckets, false_w).flip(1).cumsum(1).flip(1)
    totals = (true_w.sum(dim=1), false_w.sum(dim=1))
    if multi_label:
        return tp.T, fp.T, totals[0], totals[1]
    return tp[0], fp[0], totals[0][0], totals[1][0]


class _PrecisionRecallBase(Metric):
    """Shared state of Precision and Recall: TP and one error count per threshold."""

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.top_k = top_k
        self.class_id = class_id
        default = 0.5 if top_k is None else NEG_INF
        self.thresholds = _parse_thresholds(thresholds, default)
        self.add_constant("_threshold_tensor", self.thresholds)
        self.add_state("true_positives", (len(self.thresholds),))
        self.add_state(self._error_name, (len(self.thresholds),))

    @torch.no_grad()
    def update_state(self, y_true, y_pred, sample_weight=None):
        """Accumulates counts from one batch.

        Args:
            y_true: 0/1 labels shaped like `y_pred` (nonzero counts as positive).
            y_pred: scores in [0, 1], shape `(batch, ...)`.
            sample_weight: optional weights `(batch,)` or broadcastable to `y_true`.
        """
        labels, preds, sw = prepare(self, y_true, y_pred, sample_weight, self.top_k,
                                     self.class_id)
        tp, fp, positives, _ = threshold_counts(labels, preds, self._threshold_tensor,
                                                combine_weights(sw, None, preds))
        self.true_positives += tp
        errors = getattr(self, self._error_name)
        errors += fp if self._error_name == "false_positives" else positives - tp

    def result(self):
        errors = getattr(self, self._error_name)
        value = divide_no_nan(self.true_positives, self.true_positives + errors)
        return value[0] if len(self.thresholds) == 1 else value

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds,
                "top_k": self.top_k, "class_id": self.class_id}


class Precision(_PrecisionRecallBase):
    """TP / (TP + FP) over all samples seen.

    Args:
        thresholds: a float or list of floats in [0, 1] (default 0.5; one result per value).
        top_k: only the k highest scores of the last axis count as predicted positives.
        class_id: restrict to one class column.
        name, dtype: see `Metric`.
    """

    _error_name = "false_positives"


class Recall(_PrecisionRecallBase):
    """TP / (TP + FN) over all samples seen. Args: as `Precision`."""

    _error_name = "false_negatives"
