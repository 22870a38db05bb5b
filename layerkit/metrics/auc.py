"""AUC: area under the ROC or PR curve from per-threshold confusion counts (Keras 3)."""

import torch

from layerkit import config
from layerkit.metrics.confusion import (
    evenly_spaced,
    bucket_counts,
    combine_weights,
    prepare,
    threshold_counts,
)
from layerkit.metrics.metric import Metric, divide_no_nan

_CURVES = {"roc": "ROC", "pr": "PR", "prgain": "PRGAIN"}
_SUMMATIONS = ("interpolation", "majoring", "minoring")


class AUC(Metric):
    """Approximate area under the ROC or precision-recall curve over all samples seen.

    Args:
        num_thresholds: number of thresholds, evenly spaced in [0, 1] (> 1).
        curve: `'ROC'`, `'PR'` or `'PRGAIN'`.
        summation_method: `'interpolation'` (trapezoids; Davis-Goadrich for PR),
            `'minoring'` or `'majoring'`.
        name, dtype: see `Metric`.
        thresholds: explicit thresholds in [0, 1] (overrides num_thresholds).
        multi_label: keep one curve per label column and average them.
        num_labels: number of label columns when multi_label (else inferred).
        label_weights: per-label weights (averaging weights when multi_label).
        from_logits: apply a sigmoid to predictions first.
    """

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation",
                 name=None, dtype=None, thresholds=None, multi_label=False, num_labels=None,
                 label_weights=None, from_logits=False):
        super().__init__(name=name, dtype=dtype)
        self.curve = _CURVES.get(str(curve).lower())
        self.summation_method = str(summation_method).lower()
        if self.curve is None or self.summation_method not in _SUMMATIONS:
            raise ValueError(
                f"AUC: curve must be one of {sorted(_CURVES.values())} and summation_method "
                f"one of {_SUMMATIONS}, received curve={curve!r}, "
                f"summation_method={summation_method!r}"
            )
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            inner = sorted(float(t) for t in thresholds)
            self.num_thresholds = len(inner) + 2
            self._evenly = evenly_spaced([0.0] + inner + [1.0])
        else:
            if num_thresholds <= 1:
                raise ValueError(f"AUC: num_thresholds must be > 1, received {num_thresholds}")
            self.num_thresholds = num_thresholds
            inner = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self._evenly = True
        eps = config.epsilon()
        self._thresholds = [0.0 - eps] + inner + [1.0 + eps]
        self.multi_label = multi_label
        self.num_labels = num_labels
        self.label_weights = None
        if label_weights is not None:
            self.add_constant("label_weights", label_weights)
        self.add_constant("_threshold_tensor", self._thresholds)
        self.from_logits = from_logits
        self._built = False
        if not multi_label:
            if num_labels:
                raise ValueError("AUC: num_labels is only used with multi_label=True")
            self._build(None)
        elif num_labels:
            self._build(num_labels)

    @property
    def thresholds(self):
        """The thresholds, including the -eps and 1+eps end points."""
        return list(self._thresholds)

    def _build(self, num_labels):
        shape = (self.num_thresholds,) if num_labels is None else (self.num_thresholds,
                                                                   num_labels)
        for name in ("true_positives", "false_positives", "true_negatives", "false_negatives"):
            self.add_state(name, shape)
        self._built = True

    @torch.no_grad()
    def update_state(self, y_true, y_pred, sample_weight=None):
        """Accumulates the confusion counts of one batch.

        Args:
            y_true: 0/1 labels shaped like `y_pred`.
            y_pred: scores in [0, 1] (logits with `from_logits=True`), `(batch, ...)`;
                `(batch, num_labels)` when multi_label.
            sample_weight: optional weights `(batch,)` or broadcastable to `y_true`.
        """
        if not self._built:
            self._build(y_pred.shape[1])
        labels, preds, sw = prepare(self, y_true, y_pred, sample_weight)
        if self.from_logits:
            preds = torch.sigmoid(preds)
        label_weights = None if self.multi_label else self.label_weights
        weights = combine_weights(sw, label_weights, preds)
        if self._evenly:
            counts = bucket_counts(labels, preds, self.num_thresholds, weights, self.multi_label)
        else:
            counts = threshold_counts(labels, preds, self._threshold_tensor, weights,
                                      self.multi_label)
        tp, fp, positives, negatives = counts
        self.true_positives += tp
        self.false_positives += fp
        self.true_negatives += negatives - fp
        self.false_negatives += positives - tp

    def _average(self, by_threshold):
        """Sums the per-interval areas; averages label curves when multi_label."""
        if not self.multi_label:
            return by_threshold.sum()
        by_label = by_threshold.sum(dim=0)
        if self.label_weights is None:
            return by_label.mean()
        weights = self.label_weights
        return divide_no_nan((by_label * weights).sum(), weights.sum())

    def interpolate_pr_auc(self):
        """PR-AUC with TP and predicted positives interpolated linearly (Davis & Goadrich)."""
        tp, fp, fn = self.true_positives, self.false_positives, self.false_negatives
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        slope = divide_no_nan(dtp, dp.clamp_min(0))
        intercept = tp[1:] - slope * p[1:]
        both_positive = (p[:-1] > 0) & (p[1:] > 0)
        ratio = torch.where(both_positive, divide_no_nan(p[:-1], p[1:].clamp_min(0)),
                            torch.ones_like(p[1:]))
        increment = divide_no_nan(slope * (dtp + intercept * torch.log(ratio)),
                                  (tp[1:] + fn[1:]).clamp_min(0))
        return self._average(increment)

    def _curve_points(self):
        tp, fp = self.true_positives, self.false_positives
        tn, fn = self.true_negatives, self.false_negatives
        recall = divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            return divide_no_nan(fp, fp + tn), recall
        if self.curve == "PR":
            return recall, divide_no_nan(tp, tp + fp)
        scale = divide_no_nan(tp + fn, tn + fp)
        recall_gain = (1.0 - scale * divide_no_nan(fn, tp)).where(tp != 0, 0.0).clamp_min(0.0)
        precision_gain = (1.0 - scale * divide_no_nan(fp, tp)).where(tp != 0, 1.0)
        return recall_gain, precision_gain

    def result(self):
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self.interpolate_pr_auc()
        x, y = self._curve_points()
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = torch.minimum(y[:-1], y[1:])
        else:
            heights = torch.maximum(y[:-1], y[1:])
        return self._average((x[:-1] - x[1:]) * heights)

    def reset_state(self):
        if self._built:
            super().reset_state()

    def get_config(self):
        config_ = {
            **super().get_config(),
            "num_thresholds": self.num_thresholds,
            "curve": self.curve,
            "summation_method": self.summation_method,
            "multi_label": self.multi_label,
            "num_labels": self.num_labels,
            "label_weights": None if self.label_weights is None else self.label_weights.tolist(),
            "from_logits": self.from_logits,
        }
        if self._init_from_thresholds:
            config_["thresholds"] = self._thresholds[1:-1]
        return config_
