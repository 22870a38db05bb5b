"""One-time target checks, run by the engine on the numpy targets before training.

The losses themselves never validate targets: that would cost a device sync every batch, and
a wrong label index on CUDA only surfaces as an opaque device-side assert. `check_targets`
catches the common mistakes once, with a message that says what to do.
"""

import numpy as np

from layerkit.losses import crossentropy
from layerkit.losses.base import Loss

_KINDS = {
    crossentropy.binary_crossentropy: "binary_crossentropy",
    crossentropy.categorical_crossentropy: "categorical_crossentropy",
    crossentropy.sparse_categorical_crossentropy: "sparse_categorical_crossentropy",
}


def check_targets(loss, y_true, output_shape):
    """Raises ValueError when targets cannot be right for a crossentropy loss.

    Args:
        loss: the compiled loss: a `Loss`, a name or a function (other losses are not checked).
        y_true: the targets (numpy array or array-like), batch dimension first.
        output_shape: the model output's shape, batch dimension included (may be None).

    Raises:
        ValueError: one-hot targets for sparse_categorical_crossentropy, labels outside
            [0, num_classes), integer labels for categorical_crossentropy, or binary targets
            outside [0, 1]; the message names the loss, the expectation and the data.
    """
    if isinstance(loss, str) or not isinstance(loss, Loss):
        from layerkit.losses.lookup import get

        try:
            loss = get(loss)
        except ValueError:
            return
    kind = _KINDS.get(getattr(loss, "fn", None))
    y = np.asarray(y_true)
    if kind is None or y.dtype.kind not in "biuf" or y.size == 0:
        return
    shape = tuple(output_shape)
    classes = shape[-1] if shape else None
    if kind == "sparse_categorical_crossentropy":
        _check_sparse(y, shape, classes, getattr(loss, "ignore_class", None))
    elif kind == "categorical_crossentropy":
        _check_categorical(y, shape, classes)
    else:
        _check_binary(y)


def _check_sparse(y, shape, classes, ignore_class):
    name = "sparse_categorical_crossentropy"
    if y.ndim == len(shape) and y.shape[-1] > 1:
        raise ValueError(
            f"{name} expects integer class labels of shape {_batch(shape[1:-1])} or "
            f"{_batch(shape[1:-1] + (1,))}, but received targets of shape {y.shape}, which "
            "look one-hot encoded: use categorical_crossentropy or pass integer labels "
            "(e.g. y.argmax(-1))."
        )
    labels = y if ignore_class is None else y[y != ignore_class]
    if labels.size == 0:
        return
    if y.dtype.kind == "f" and not np.all(np.equal(np.mod(labels, 1), 0)):
        raise ValueError(
            f"{name} expects integer class labels, but received non-integer values such as "
            f"{labels[np.mod(labels, 1) != 0].flat[0]!r}: pass class indices in "
            f"[0, {classes}), or use binary_crossentropy / a regression loss."
        )
    low, high = labels.min(), labels.max()
    if classes is not None and (low < 0 or high >= classes):
        raise ValueError(
            f"{name} expects labels in [0, {classes}) for an output with {classes} classes, "
            f"but received labels from {_num(low)} to {_num(high)}: give the last layer as "
            "many units as there are classes, or re-index the labels to start at 0."
        )


def _check_categorical(y, shape, classes):
    name = "categorical_crossentropy"
    if classes is None:
        return
    if y.ndim < len(shape) or (y.shape[-1] == 1 and classes != 1):
        raise ValueError(
            f"{name} expects one-hot targets of shape {_batch(shape[1:])}, but received "
            f"targets of shape {y.shape}, which look like integer labels: use "
            "sparse_categorical_crossentropy, or one-hot encode them with "
            "utils.to_categorical(y, num_classes)."
        )
    if y.shape[-1] != classes:
        raise ValueError(
            f"{name} expects one-hot targets with {classes} columns (the output has "
            f"{classes} units), but received targets of shape {y.shape}: make the last "
            "layer's units match the number of classes."
        )


def _check_binary(y):
    low, high = y.min(), y.max()
    if low < 0 or high > 1:
        raise ValueError(
            "binary_crossentropy expects targets in [0, 1], but received values from "
            f"{_num(low)} to {_num(high)}: for integer class labels use a softmax output with "
            "sparse_categorical_crossentropy, or rescale the targets."
        )


def _batch(dims):
    """Formats a per-sample shape with the batch dimension in front: `(batch_size, 10)`."""
    if not dims:
        return "(batch_size,)"
    return "(batch_size" + "".join(f", {d}" for d in dims) + ")"


def _num(value):
    value = value.item()
    return int(value) if float(value).is_integer() else value
