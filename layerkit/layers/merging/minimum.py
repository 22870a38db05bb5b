"""Minimum: element-wise minimum of a list of tensors."""

import torch

from .base_merge import Merge


class Minimum(Merge):
    """Element-wise minimum of a list of tensors of one shape (axes of size 1 broadcast).

    Masked-out entries of one input take the value of the others (Keras 3).

    Example:
        >>> low = Minimum()([x1, x2])
    """

    def _merge_function(self, inputs, masks):
        return self._merge_masked(torch.minimum, inputs, masks)


def minimum(inputs, **kwargs):
    """Functional interface to `Minimum`: `minimum([x1, x2])`.

    Args:
        inputs: list of tensors (symbolic or eager).
        **kwargs: layer arguments (name, ...).

    Returns:
        The element-wise minimum of the inputs.
    """
    return Minimum(**kwargs)(inputs)
