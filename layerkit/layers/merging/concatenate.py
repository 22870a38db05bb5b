"""Concatenate: joins a list of tensors along one axis."""

import torch

from .base_merge import Merge, _check_list_of_shapes, _check_list_of_tensors


class Concatenate(Merge):
    """Concatenates tensors that agree on every axis except `axis`.

    Args:
        axis: the concatenation axis (default -1, the features).

    Example:
        >>> merged = Concatenate()([a, b])  # (None, 4) and (None, 3) -> (None, 7)
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise ValueError(
                f"Concatenate(axis={axis!r}): axis must be an integer, received {axis!r}"
            )
        self.axis = axis

    def build(self, input_shape):
        self.compute_output_shape(input_shape)  # raises on incompatible shapes
        self.built = True

    def call(self, inputs):
        _check_list_of_tensors(self, inputs)
        return torch.cat(list(inputs), dim=self.axis)

    def compute_output_shape(self, input_shape):
        _check_list_of_shapes(self, input_shape)
        shapes = [tuple(s) for s in input_shape]
        ranks = {len(s) for s in shapes}
        if len(ranks) > 1:
            raise ValueError(self._mismatch(shapes, "ranks differ"))
        rank = ranks.pop()
        if not -rank <= self.axis < rank:
            raise ValueError(
                f"Layer '{self.name}' (Concatenate): axis={self.axis} is out of range for "
                f"inputs of rank {rank} (shapes {shapes}); use an axis in [{-rank}, {rank})"
            )
        axis = self.axis % rank
        output = list(shapes[0])
        for shape in shapes[1:]:
            for i, (a, b) in enumerate(zip(output, shape)):
                if i == axis:
                    output[i] = None if a is None or b is None else a + b
                elif a is None:
                    output[i] = b
                elif b is not None and a != b:
                    raise ValueError(self._mismatch(shapes, f"axis {i} is {a} vs {b}"))
        return tuple(output)

    def _mismatch(self, shapes, detail):
        return (
            f"Layer '{self.name}' (Concatenate, axis={self.axis}) requires inputs with "
            f"matching shapes except for the concatenation axis; received shapes "
            f"{' and '.join(str(s) for s in shapes)} ({detail}). Reshape the inputs or "
            "choose another axis"
        )

    def compute_mask(self, inputs, mask=None):
        """Keras 3: masks (or all-True where an input has none) concatenated along `axis`,
        then ORed over the last axis."""
        if mask is None or all(m is None for m in mask):
            return None
        full = []
        for x, m in zip(inputs, mask):
            if m is None:
                m = torch.ones(x.shape, dtype=torch.bool, device=x.device)
            elif m.dim() < x.dim():
                m = m.unsqueeze(-1).expand(x.shape)  # (..., ) -> (..., features)
            full.append(m.bool())
        return torch.cat(full, dim=self.axis).any(dim=-1)

    def get_config(self):
        config = super().get_config()
        config.update(axis=self.axis)
        return config


def concatenate(inputs, axis=-1, **kwargs):
    """Functional interface to `Concatenate`: `concatenate([a, b], axis=-1)`.

    Args:
        inputs: list of tensors (symbolic or eager).
        axis: the concatenation axis.
        **kwargs: layer arguments (name, ...).

    Returns:
        The concatenated tensor.
    """
    return Concatenate(axis=axis, **kwargs)(inputs)
