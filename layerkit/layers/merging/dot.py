"""Dot: batched dot product between samples of two tensors."""

import torch

from ... import config
from .base_merge import Merge, _check_list_of_shapes, _check_list_of_tensors


class Dot(Merge):
    """Dot product of two tensors along one axis each, sample by sample (Keras batch_dot).

    The output axes are those of the first input (batch, then all but its dot axis) followed
    by those of the second (all but its batch and dot axes); two 2-D inputs give (batch, 1).

    Args:
        axes: int, or a pair (axis of the first input, axis of the second); negative axes
            count from the end; the batch axis 0 cannot be used.
        normalize: L2-normalize both inputs along their dot axes first, so the output is
            the cosine similarity (Keras 3: `x * min(rsqrt(sum(x^2)), 1 / epsilon())`).

    Example:
        >>> score = Dot(axes=1, normalize=True)([a, b])  # (None, n), (None, n) -> (None, 1)
    """

    supports_masking = True

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        pair = isinstance(axes, (list, tuple)) and len(axes) == 2
        items = list(axes) if pair else [axes]
        if not all(isinstance(a, int) and not isinstance(a, bool) for a in items):
            raise ValueError(
                f"Dot(axes={axes!r}): axes must be an int or a pair of ints, received {axes!r}"
            )
        self.axes = list(axes) if pair else axes
        self.normalize = bool(normalize)

    def build(self, input_shape):
        self.compute_output_shape(input_shape)  # raises on incompatible shapes
        self.built = True

    def call(self, inputs):
        _check_list_of_tensors(self, inputs)
        x, y = self._two(inputs, [tuple(t.shape) for t in inputs])
        a0, a1 = self._positive_axes(x.dim(), y.dim())
        if self.normalize:
            x, y = _l2_normalize(x, a0), _l2_normalize(y, a1)
        return _batch_dot(x, y, a0, a1)

    def compute_output_shape(self, input_shape):
        _check_list_of_shapes(self, input_shape)
        shape1, shape2 = (list(s) for s in self._two(input_shape, input_shape))
        a0, a1 = self._positive_axes(len(shape1), len(shape2))
        if None not in (shape1[a0], shape2[a1]) and shape1[a0] != shape2[a1]:
            raise ValueError(
                f"Layer '{self.name}' (Dot, axes={self.axes}): the dot axes have different "
                f"sizes, {shape1[a0]} (axis {a0} of {tuple(shape1)}) vs {shape2[a1]} "
                f"(axis {a1} of {tuple(shape2)}); choose axes of equal length"
            )
        output = shape1[:a0] + shape1[a0 + 1:] + shape2[1:a1] + shape2[a1 + 1:]
        return tuple(output + [1] if len(output) == 1 else output)

    def _two(self, items, shapes):
        if len(items) != 2:
            raise ValueError(
                f"Layer '{self.name}' (Dot) should be called on exactly 2 inputs, received "
                f"{len(items)} with shapes {list(shapes)}"
            )
        if min(len(s) for s in shapes) < 2:
            raise ValueError(
                f"Layer '{self.name}' (Dot) needs inputs of rank >= 2 (batch, ...), "
                f"received shapes {list(shapes)}"
            )
        return items

    def _positive_axes(self, rank1, rank2):
        axes = self.axes if isinstance(self.axes, list) else [self.axes, self.axes]
        for axis, rank in zip(axes, (rank1, rank2)):
            if not -rank <= axis < rank or axis % rank == 0:
                raise ValueError(
                    f"Layer '{self.name}' (Dot, axes={self.axes}): axis {axis} is the batch "
                    f"axis or out of range for an input of rank {rank}; use axes in "
                    f"[1, {rank}) or [{-rank + 1}, -1]"
                )
        return axes[0] % rank1, axes[1] % rank2

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self):
        config = super().get_config()
        config.update(axes=self.axes, normalize=self.normalize)
        return config


def _l2_normalize(x, axis):
    """Keras 3's `normalize`: `x * min(rsqrt(sum(x^2)), 1 / epsilon)` (no NaN at 0)."""
    inv_norm = torch.rsqrt(torch.sum(torch.square(x), dim=axis, keepdim=True))
    return x * torch.clamp(inv_norm, max=1.0 / config.epsilon())


def _batch_dot(x, y, a0, a1):
    """Keras's batch_dot with the dot axes a0 of x and a1 of y (both > 0)."""
    x = torch.movedim(x, a0, -1)  # (B, X..., n)
    y = torch.movedim(y, a1, 1)   # (B, n, Y...)
    batch, n = x.shape[0], x.shape[-1]
    out = torch.bmm(x.reshape(batch, -1, n), y.reshape(batch, n, -1))  # (B, prod X, prod Y)
    out = out.reshape((batch,) + tuple(x.shape[1:-1]) + tuple(y.shape[2:]))
    return out.unsqueeze(1) if out.dim() == 1 else out  # two 2-D inputs: (B,) -> (B, 1)


def dot(inputs, axes=-1, normalize=False, **kwargs):
    """Functional interface to `Dot`: `dot([a, b], axes=1)`.

    Args:
        inputs: list of two tensors.
        axes: int or pair of ints (see `Dot`).
        normalize: cosine similarity instead of the plain dot product.
        **kwargs: layer arguments (name, ...).

    Returns:
        The batched dot product.
    """
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)
