"""Accuracy metrics: per-sample match functions and their running means."""

import torch

from layerkit import config
from layerkit.losses.base import as_pair, squeeze_or_expand_to_same_rank
from layerkit.metrics.metric import FixedFunctionMean


def accuracy(y_true, y_pred):
    """1.0 where `y_true == y_pred` exactly, else 0.0 (Keras 3 `Accuracy`)."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(*as_pair(y_true, y_pred))
    return (y_true == y_pred).to(config.floatx_dtype())


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """1.0 where `(y_pred > threshold) == y_true`.

    Args:
        y_true: 0/1 labels, shape `(batch, ..., d)` (or `(batch,)` for d = 1).
        y_pred: probabilities, shape `(batch, ..., d)`.
        threshold: a prediction counts as positive when strictly above it.

    Returns:
        Float per-sample accuracy: the mean over the last axis, shape `(batch, ...)`
        (tf.keras 2.x `metrics.binary_accuracy`: `(N, 1)` inputs give `(N,)`); rank-1
        inputs give `(batch,)` matches.
    """
    y_true, y_pred = squeeze_or_expand_to_same_rank(*as_pair(y_true, y_pred))
    matches = (y_true == (y_pred > threshold).to(y_true.dtype)).to(config.floatx_dtype())
    return matches.mean(dim=-1) if matches.dim() > 1 else matches


def categorical_accuracy(y_true, y_pred):
    """1.0 where `argmax(y_true) == argmax(y_pred)` over the last axis.

    Args:
        y_true: one-hot targets `(batch, ..., classes)`.
        y_pred: scores `(batch, ..., classes)`.

    Returns:
        Float matches, shape `(batch, ...)`.
    """
    y_true, y_pred = as_pair(y_true, y_pred)
    return (y_true.argmax(dim=-1) == y_pred.argmax(dim=-1)).to(config.floatx_dtype())


def sparse_categorical_accuracy(y_true, y_pred):
    """1.0 where the integer label equals `argmax(y_pred)`.

    Args:
        y_true: labels `(batch, ...)` or `(batch, ..., 1)`.
        y_pred: scores `(batch, ..., classes)`.

    Returns:
        Float matches, shape `(batch, ...)`.
    """
    y_true, y_pred = as_pair(y_true, y_pred)
    if y_true.dim() == y_pred.dim() and y_true.shape[-1] == 1:
        y_true = y_true.squeeze(-1)
    matches = (y_true == y_pred.argmax(dim=-1).to(y_true.dtype)).to(config.floatx_dtype())
    if matches.dim() > 1 and matches.shape[-1] == 1:
        matches = matches.squeeze(-1)
    return matches


def _in_top_k(labels, scores, k):
    """Whether each label's score reaches the k-th largest score (ties count as in)."""
    k = min(k, scores.shape[-1])
    kth = scores.topk(k, dim=-1).values[:, -1]
    return scores.gather(-1, labels.unsqueeze(-1)).squeeze(-1) >= kth


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where the one-hot target is among the `k` highest scores.

    Args:
        y_true: one-hot targets `(batch, ..., classes)`.
        y_pred: scores `(batch, ..., classes)`.
        k: how many top scores count.

    Returns:
        Float matches, shape `(batch, ...)`.
    """
    y_true, y_pred = as_pair(y_true, y_pred)
    labels = y_true.argmax(dim=-1)
    hits = _in_top_k(labels.reshape(-1), y_pred.reshape(-1, y_pred.shape[-1]), k)
    return hits.reshape(labels.shape).to(config.floatx_dtype())


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where the integer label is among the `k` highest scores.

    Args:
        y_true: labels `(batch, ...)` (a trailing 1 is kept, as in Keras 3).
        y_pred: scores `(batch, ..., classes)`.
        k: how many top scores count.

    Returns:
        Float matches, shaped like `y_true`.
    """
    y_true, y_pred = as_pair(y_true, y_pred, torch.long)
    hits = _in_top_k(y_true.reshape(-1), y_pred.reshape(-1, y_pred.shape[-1]), k)
    return hits.reshape(y_true.shape).to(config.floatx_dtype())


class Accuracy(FixedFunctionMean):
    """How often predictions equal labels exactly. Args: name, dtype."""

    function = staticmethod(accuracy)

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(name, dtype)


class BinaryAccuracy(FixedFunctionMean):
    """How often thresholded predictions match 0/1 labels.

    Args:
        name, dtype: see `Metric`.
        threshold: a prediction is positive when strictly above it.
    """

    function = staticmethod(binary_accuracy)

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(name, dtype, threshold=threshold)


class CategoricalAccuracy(FixedFunctionMean):
    """How often `argmax` of predictions matches one-hot labels. Args: name, dtype."""

    function = staticmethod(categorical_accuracy)

    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(name, dtype)


class SparseCategoricalAccuracy(FixedFunctionMean):
    """How often `argmax` of predictions matches integer labels. Args: name, dtype."""

    function = staticmethod(sparse_categorical_accuracy)

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(name, dtype)


class TopKCategoricalAccuracy(FixedFunctionMean):
    """How often one-hot targets are in the top `k` predictions. Args: k, name, dtype."""

    function = staticmethod(top_k_categorical_accuracy)

    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(name, dtype, k=k)


class SparseTopKCategoricalAccuracy(FixedFunctionMean):
    """How often integer targets are in the top `k` predictions. Args: k, name, dtype."""

    function = staticmethod(sparse_top_k_categorical_accuracy)

    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None):
        super().__init__(name, dtype, k=k)
