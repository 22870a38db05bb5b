"""Maximum: element-wise maximum of a list of tensors."""

import torch

from .base_merge import Merge


class Maximum(Merge):
    """Element-wise maximum of a list of tensors of one shape (axes of size 1 broadcast).

    Masked-out entries of one input take the value of the others (Keras 3).

    Example:
        >>> top = Maximum()([x1, x2])
    """

    def _merge_function(self, inputs, masks):
        return self._merge_masked(torch.maximum, inputs, masks)


def maximum(inputs, **kwargs):
    """Functional interface to `Maximum`: `maximum([x1, x2])`.

    Args:
        inputs: list of tensors (symbolic or eager).
        **kwargs: layer arguments (name, ...).

    Returns:
        The element-wise maximum of the inputs.
    """
    return Maximum(**kwargs)(inputs)
