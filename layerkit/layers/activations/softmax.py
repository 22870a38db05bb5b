"""Softmax: the softmax activation as a layer, with an optional mask."""

import torch

from ... import activations
from ..layer import Layer


class Softmax(Layer):
    """Softmax along `axis`; masked positions get probability 0 (Keras 3's rule).

    Args:
        axis: int or list of ints, the axis (axes) the probabilities sum to 1 over.

    Call args:
        mask: optional boolean tensor broadcastable to the input (1 = keep).

    Example:
        >>> Softmax(axis=1)
    """

    supports_masking = True

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = list(axis) if isinstance(axis, (list, tuple)) else int(axis)

    def call(self, inputs, mask=None):
        if mask is not None:
            if mask.dim() > inputs.dim() or any(
                    m not in (1, i) for m, i in zip(mask.shape[::-1], inputs.shape[::-1])):
                raise ValueError(
                    f"Layer '{self.name}' (Softmax): the mask must be broadcastable to the "
                    f"inputs, received inputs shape {tuple(inputs.shape)} and mask shape "
                    f"{tuple(mask.shape)}"
                )
            mask = mask if mask.dtype == torch.bool else mask > 0.5
            # Keras 3's large negative number: -3e4 in float16, -1e9 otherwise
            inputs = inputs.masked_fill(~mask, -3e4 if inputs.dtype == torch.float16 else -1e9)
        if isinstance(self.axis, list):
            if len(self.axis) > 1:
                outputs = torch.exp(inputs - torch.logsumexp(inputs, dim=self.axis,
                                                             keepdim=True))
            else:
                outputs = activations.softmax(inputs, axis=self.axis[0])
        else:
            outputs = activations.softmax(inputs, axis=self.axis)
        if mask is not None:
            outputs = outputs.masked_fill(~mask, 0.0)
        return outputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def compute_mask(self, inputs, mask=None):
        return mask

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config
