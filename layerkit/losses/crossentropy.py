"""Crossentropy losses, with the exact-logits shortcut of Keras 3's TensorFlow backend.

Probabilities follow Keras 3's torch backend: clip to [eps, 1-eps] then log (categorical
renormalizes by the sum first). A probability tensor that a sigmoid/softmax activation
produced carries its logits (`layerkit.graph.tensor_info.get_logits`); the loss is then
computed from them exactly, as Keras 3's TensorFlow backend and tf.keras do, so a saturated
sigmoid (z=40, y=0) costs 40, not -log(1e-7) ≈ 16.1. Only the matching activation's logits
count: tf.keras ≥2.5 also fed softmax logits to a sigmoid crossentropy
(`Dense(2, activation='softmax')` + `'binary_crossentropy'`), which we do not copy. With
logits the loss is computed from them alone, so the shortcut costs nothing extra.
"""

import warnings

import torch
import torch.nn.functional as F

from layerkit import config
from layerkit.graph.tensor_info import get_logits, set_mask
from layerkit.losses.base import FixedFunctionLoss, align, as_pair


def _clip(p):
    eps = config.epsilon()
    return p.clamp(eps, 1.0 - eps)


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Binary crossentropy, averaged over `axis`.

    Args:
        y_true: targets in [0, 1], shape `(batch, ..., d)`.
        y_pred: probabilities (or logits with `from_logits=True`), same shape.
        from_logits: whether `y_pred` holds logits.
        label_smoothing: squeezes targets towards 0.5: `y·(1-ls) + 0.5·ls`.
        axis: the axis averaged over.

    Returns:
        Per-sample losses, shape `(batch, ...)`.
    """
    y_true, y_pred = align(*as_pair(y_true, y_pred))
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        values = F.binary_cross_entropy_with_logits(y_pred, y_true, reduction="none")
        return values.mean(dim=axis)
    logits = get_logits(y_pred, "sigmoid")
    if logits is not None:
        values = F.binary_cross_entropy_with_logits(logits, y_true, reduction="none")
    else:
        values = F.binary_cross_entropy(_clip(y_pred), y_true, reduction="none")
    return values.mean(dim=axis)


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Categorical crossentropy `-Σ y·log p` over `axis` (one-hot or soft targets).

    Args:
        y_true: one-hot targets, shape `(batch, ..., classes)`.
        y_pred: probabilities (or logits with `from_logits=True`), same shape.
        from_logits: whether `y_pred` holds logits.
        label_smoothing: `y·(1-ls) + ls/classes`.
        axis: the class axis.

    Returns:
        Per-sample losses, shape `(batch, ...)`.
    """
    y_true, y_pred = align(*as_pair(y_true, y_pred))
    if y_pred.shape[axis] == 1:
        warnings.warn(
            "categorical_crossentropy: expected y_pred of shape (batch, num_classes) with "
            f"num_classes > 1, received shape {tuple(y_pred.shape)}. Use "
            "'binary_crossentropy' for a single sigmoid output.",
            stacklevel=2,
        )
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_true.shape[axis]
    if from_logits:
        return -(y_true * F.log_softmax(y_pred, dim=axis)).sum(dim=axis)
    logits = get_logits(y_pred, "softmax") if axis in (-1, y_pred.dim() - 1) else None
    if logits is not None:
        return -(y_true * F.log_softmax(logits, dim=axis)).sum(dim=axis)
    probs = _clip(y_pred / y_pred.sum(dim=axis, keepdim=True))
    return -(y_true * torch.log(probs)).sum(dim=axis)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None,
                                    axis=-1):
    """Crossentropy against integer class labels.

    Args:
        y_true: integer labels, shape `(batch, ...)` or `(batch, ..., 1)`.
        y_pred: probabilities (or logits), shape `(batch, ..., classes)`.
        from_logits: whether `y_pred` holds logits.
        ignore_class: a label whose entries get loss 0 and are left out of the mean
            (the result carries them as its mask, `tensor_info.get_mask`).
        axis: the class axis of `y_pred`.

    Returns:
        Per-sample losses, shape `(batch, ...)`.
    """
    y_true, y_pred = as_pair(y_true, y_pred, torch.long)
    if y_true.dim() == y_pred.dim() and y_true.shape[axis] == 1:
        y_true = y_true.squeeze(axis)
    logits = get_logits(y_pred, "softmax") if axis in (-1, y_pred.dim() - 1) else None
    if axis not in (-1, y_pred.dim() - 1):
        y_pred = y_pred.movedim(axis, -1)  # (batch, ..., classes)
    valid = None
    if ignore_class is not None:
        valid = y_true != ignore_class
        y_true = torch.where(valid, y_true, 0)
    if from_logits:
        values = _sparse_from_logits(y_true, y_pred)
    elif logits is not None:
        values = _sparse_from_logits(y_true, logits)
    else:
        values = _sparse_from_probs(y_true, y_pred)
    if valid is not None:
        values = torch.where(valid, values, 0.0)
        set_mask(values, valid)
    return values


def _sparse_from_logits(labels, logits):
    classes = logits.shape[-1]
    flat = F.cross_entropy(logits.reshape(-1, classes), labels.reshape(-1), reduction="none")
    return flat.reshape(labels.shape)


def _sparse_from_probs(labels, probs):
    # Keras 3 renormalizes, clips and takes nll; only the target column matters, so gather it
    # instead of materializing log(p) for every class.
    picked = probs.gather(-1, labels.unsqueeze(-1)).squeeze(-1)
    totals = probs.sum(dim=-1)
    return -torch.log(_clip(picked / totals))


class BinaryCrossentropy(FixedFunctionLoss):
    """Binary crossentropy loss (see `binary_crossentropy`).

    Args:
        from_logits, label_smoothing, axis: as in `binary_crossentropy`.
        reduction, name: as in `Loss`.
    """

    function = staticmethod(binary_crossentropy)

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="binary_crossentropy"):
        super().__init__(reduction, name, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)


class CategoricalCrossentropy(FixedFunctionLoss):
    """Categorical crossentropy loss for one-hot targets (see `categorical_crossentropy`).

    Args:
        from_logits, label_smoothing, axis: as in `categorical_crossentropy`.
        reduction, name: as in `Loss`.
    """

    function = staticmethod(categorical_crossentropy)

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_crossentropy"):
        super().__init__(reduction, name, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)


class SparseCategoricalCrossentropy(FixedFunctionLoss):
    """Crossentropy loss for integer labels (see `sparse_categorical_crossentropy`).

    Args:
        from_logits, ignore_class, axis: as in `sparse_categorical_crossentropy`.
        reduction, name: as in `Loss`.
    """

    function = staticmethod(sparse_categorical_crossentropy)
    integer_targets = True

    def __init__(self, from_logits=False, ignore_class=None, reduction="sum_over_batch_size",
                 axis=-1, name="sparse_categorical_crossentropy"):
        super().__init__(reduction, name, from_logits=from_logits, ignore_class=ignore_class,
                         axis=axis)
