"""One-time target checks, run by the engine on the numpy targets before training.

The losses themselves never validate targets: that would cost a device sync every batch, and
a wrong label index on CUDA only surfaces as an opaque device-side assert. `check_targets`
catches the common mistakes once, with a message that says what to do.
"""

import numpy as np

from layerkit.losses import crossentropy, hinges, probabilistic, regression
from layerkit.losses.base import Loss

_KINDS = {
    crossentropy.binary_crossentropy: "binary_crossentropy",
    crossentropy.categorical_crossentropy: "categorical_crossentropy",
    crossentropy.sparse_categorical_crossentropy: "sparse_categorical_crossentropy",
}

# losses whose targets have the output's shape (after Keras's trailing-1 rank alignment)
_SAME_SHAPE = {
    crossentropy.binary_crossentropy, crossentropy.categorical_crossentropy,
    regression.mean_squared_error, regression.mean_absolute_error,
    regression.mean_absolute_percentage_error, regression.mean_squared_logarithmic_error,
    regression.huber, regression.log_cosh, regression.cosine_similarity,
    hinges.hinge, hinges.squared_hinge, hinges.categorical_hinge,
    probabilistic.kl_divergence, probabilistic.poisson,
}


def check_targets(loss, y_true, output_shape, output_name=None):
    """Raises ValueError when targets cannot be right for the loss and the output.

    Args:
        loss: the compiled loss: a `Loss`, a name or a function (user functions are not
            checked: they may take any targets).
        y_true: the targets (numpy array or array-like), batch dimension first.
        output_shape: the model output's shape, batch dimension included (may be None).
        output_name: the output layer's name, for the message.

    Raises:
        ValueError: targets whose shape does not fit the output (checked for every built-in
            loss, so nothing broadcasts silently), one-hot targets for
            sparse_categorical_crossentropy, labels outside [0, num_classes), integer labels
            for categorical_crossentropy, or binary targets outside [0, 1]; the message
            names the loss, the output, the shapes expected and received, and the fix.
    """
    if isinstance(loss, str) or not isinstance(loss, Loss):
        from layerkit.losses.lookup import get

        try:
            loss = get(loss)
        except ValueError:
            return
    fn = getattr(loss, "fn", None)
    y = np.asarray(y_true)
    if output_shape is None or y.dtype.kind not in "biuf" or y.size == 0:
        return
    shape = tuple(output_shape)
    where = getattr(loss, "name", None) or getattr(fn, "__name__", "the loss")
    if output_name:
        where += f" on output '{output_name}'"
    kind = _KINDS.get(fn)
    classes = shape[-1] if shape else None
    if kind == "sparse_categorical_crossentropy":
        _check_sparse(y, shape, classes, getattr(loss, "ignore_class", None), where)
    elif kind == "categorical_crossentropy":
        _check_categorical(y, shape, classes, where)
    if fn in _SAME_SHAPE:
        _check_same_shape(y, shape, where, kind)
    if kind == "binary_crossentropy":
        _check_binary(y, where)


def _check_same_shape(y, shape, where, kind):
    """Targets must have the output's shape; a trailing 1 may be missing on either side
    (Keras 3's `squeeze_or_expand_to_same_rank`)."""
    target = tuple(y.shape)
    if len(target) == len(shape) - 1 and shape[-1] == 1:
        target = target + (1,)
    elif len(target) == len(shape) + 1 and target[-1] == 1:
        target = target[:-1]
    if len(target) == len(shape) and all(
            o is None or t == o for t, o in zip(target[1:], shape[1:])):
        return
    raise ValueError(
        f"{where}: expected targets of shape {_batch(shape[1:])} to match the output, but "
        f"received targets of shape {y.shape}. {_shape_fix(y, shape, kind)}"
    )


def _shape_fix(y, shape, kind):
    units, columns = shape[-1] if shape else None, y.shape[-1] if y.ndim > 1 else 1
    if kind == "binary_crossentropy" and units == 1 and columns > 1:
        return (f"The output has 1 unit but the targets have {columns} columns: for "
                f"{columns} one-hot classes end with Dense({columns}, activation='softmax') "
                "and use categorical_crossentropy (or pass integer labels with "
                f"sparse_categorical_crossentropy); for {columns} independent yes/no labels "
                f"end with Dense({columns}, activation='sigmoid').")
    labels_fix = (f"one-hot encode integer class labels with utils.to_categorical(y, {units}) "
                  "(or keep them and use sparse_categorical_crossentropy with a softmax "
                  "output)")
    if y.ndim == len(shape) and units is not None and columns != units:
        fix = f"Give the last layer {columns} units to predict {columns} target columns, or "
        return fix + (labels_fix + "." if columns == 1 else f"give the targets {units} "
                      "column(s).")
    if y.ndim == len(shape) - 1 and units is not None and units > 1:
        return (f"The targets hold one value per sample: {labels_fix}, or give the last "
                "layer 1 unit.")
    return ("Reshape the targets to the output's shape, or change the last layers so the "
            "output has the targets' shape.")


def _check_sparse(y, shape, classes, ignore_class, where):
    name = where
    if y.ndim == len(shape) and y.shape[-1] > 1:
        raise ValueError(
            f"{name} expects integer class labels of shape {_batch(shape[1:-1])} or "
            f"{_batch(shape[1:-1] + (1,))}, but received targets of shape {y.shape}, which "
            "look one-hot encoded: use categorical_crossentropy or pass integer labels "
            "(e.g. y.argmax(-1))."
        )
    if tuple(y.shape[1:]) not in (shape[1:-1], shape[1:-1] + (1,)) and \
            None not in shape[1:-1]:
        raise ValueError(
            f"{name} expects integer class labels of shape {_batch(shape[1:-1])} or "
            f"{_batch(shape[1:-1] + (1,))} for an output of shape {_batch(shape[1:])}, but "
            f"received targets of shape {y.shape}: give one class index per "
            f"{'sample' if len(shape) == 2 else 'position'}, or change the output's shape."
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


def _check_categorical(y, shape, classes, where):
    name = where
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


def _check_binary(y, where):
    """Integer-valued targets outside {0, 1} are class labels (or -1/1 labels) given to the
    wrong loss. Fractional targets are soft labels and pass, also a little outside [0, 1]:
    Keras 2 trained on them, and the book's GAN adds `0.05 * random` noise to 1s."""
    low, high = y.min(), y.max()
    integral = y.dtype.kind in "biu" or bool(np.all(np.equal(np.mod(y, 1), 0)))
    if integral and (low < 0 or high > 1):
        raise ValueError(
            f"{where} expects targets in [0, 1], but received values from "
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
