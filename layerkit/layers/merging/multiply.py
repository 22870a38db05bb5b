"""Multiply: element-wise product of a list of tensors."""

import torch

from .base_merge import Merge


class Multiply(Merge):
    """Multiplies a list of tensors of one shape (axes of size 1 broadcast).

    With masks on every input (Keras 3): masked-out entries count as 1 in the product, and
    entries masked out in all inputs are set to 0.

    Example:
        >>> gated = Multiply()([x, gate])
    """

    def _merge_function(self, inputs, masks):
        has_output_mask = all(m is not None for m in masks)
        output, output_mask = None, None
        for x, mask in zip(inputs, masks):
            if mask is not None:
                mask = mask.unsqueeze(-1).expand(x.shape)  # (..., ) -> (..., features)
                x = torch.where(mask, x, torch.ones((), dtype=x.dtype, device=x.device))
                if has_output_mask:
                    output_mask = mask if output_mask is None else output_mask | mask
            output = x if output is None else output * x
        if has_output_mask:
            output = torch.where(output_mask, output, torch.zeros_like(output))
        return output


def multiply(inputs, **kwargs):
    """Functional interface to `Multiply`: `multiply([x1, x2])`.

    Args:
        inputs: list of tensors (symbolic or eager).
        **kwargs: layer arguments (name, ...).

    Returns:
        The element-wise product of the inputs.
    """
    return Multiply(**kwargs)(inputs)
