"""Numpy helpers from `keras.utils`: `to_categorical` and `normalize`.

Surface of tf.keras 2.x: `to_categorical` takes `dtype` and returns float32 by default
(Keras 3 has no `dtype` and returns float64; values are identical). Unlike Keras, labels
outside `[0, num_classes)` raise a `ValueError` (Keras raises `IndexError` for too-large
labels and silently wraps negative ones to the last classes). `normalize` follows tf.keras
2.x, which is correct for every axis (Keras 3's numpy path turns `axis=0` into `axis=-1`),
and also accepts torch tensors, returning a tensor.
"""

import numpy as np
import torch


def _as_numpy(x):
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return x


def to_categorical(y, num_classes=None, dtype="float32"):
    """Converts integer class labels to one-hot rows.

    Args:
        y: array-like (or torch tensor) of integer labels in `[0, num_classes)`, any shape;
            a trailing axis of size 1 is dropped (`(n, 1)` → `(n, num_classes)`).
        num_classes: number of classes; None (or 0) → `max(y) + 1`.
        dtype: output dtype (default 'float32', as tf.keras 2.x).

    Returns:
        A numpy array of shape `y.shape + (num_classes,)` (trailing 1 dropped).

    Raises:
        ValueError: if a label is negative or `>= num_classes`.

    Example:
        >>> to_categorical([0, 2], num_classes=3)
        array([[1., 0., 0.],
               [0., 0., 1.]], dtype=float32)
    """
    y = np.array(_as_numpy(y), dtype="int64")
    input_shape = y.shape
    if input_shape and input_shape[-1] == 1 and len(input_shape) > 1:
        input_shape = tuple(input_shape[:-1])
    y = y.ravel()
    if y.size and y.min() < 0:
        raise ValueError(f"to_categorical: labels must be >= 0, received {int(y.min())}; "
                         "shift the labels so that the classes are 0..num_classes-1.")
    if not num_classes:
        if not y.size:
            raise ValueError("to_categorical: cannot infer num_classes from empty labels; "
                             "pass num_classes.")
        num_classes = int(y.max()) + 1
    elif y.size and y.max() >= num_classes:
        raise ValueError(f"to_categorical: labels must be < num_classes={num_classes}, "
                         f"received {int(y.max())}; pass num_classes={int(y.max()) + 1} "
                         "or check the labels.")
    categorical = np.zeros((y.shape[0], num_classes), dtype=dtype)
    categorical[np.arange(y.shape[0]), y] = 1
    return categorical.reshape(input_shape + (num_classes,))


def normalize(x, axis=-1, order=2):
    """Divides `x` by its `order`-norm along `axis`; zero-norm slices are left unchanged.

    Args:
        x: numpy array(-like) or torch tensor.
        axis: the axis along which the norm is taken.
        order: the norm order (as `np.linalg.norm`'s `ord` for vectors: 1, 2, np.inf, ...).

    Returns:
        An array of the same shape (a float copy), a tensor for tensor input.

    Example:
        >>> normalize(np.array([[3.0, 4.0]]))
        array([[0.6, 0.8]])
    """
    if isinstance(x, torch.Tensor):
        if not x.is_floating_point():
            x = x.to(torch.get_default_dtype())
        norm = torch.linalg.vector_norm(x, ord=order, dim=axis, keepdim=True)
        return x / torch.where(norm == 0, torch.ones_like(norm), norm)
    x = np.asarray(x)
    norm = np.atleast_1d(np.linalg.norm(x, order, axis))
    norm[norm == 0] = 1
    return x / np.expand_dims(norm, axis)
