"""Masking: marks timesteps whose features all equal `mask_value` as padding."""

import torch

from ..layer import Layer


class Masking(Layer):
    """Zeroes the timesteps whose features all equal `mask_value`, and masks them.

    A timestep t of sample b is kept when any feature differs from `mask_value`; the output
    carries the mask (batch, timesteps) for the layers that follow (LSTM, GRU, ...).

    Args:
        mask_value: the padding value (default 0.0).

    Input: (batch, timesteps, features); output: the same shape.

    Example:
        >>> Masking(mask_value=0.0, input_shape=(10, 8))
    """

    supports_masking = True

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        self.mask_value = mask_value

    def call(self, inputs):
        keep = (inputs != self.mask_value).any(dim=-1, keepdim=True)  # (B, T, 1)
        return torch.where(keep, inputs, torch.zeros((), dtype=inputs.dtype))

    def compute_mask(self, inputs, mask=None):
        return (inputs != self.mask_value).any(dim=-1)  # (B, T)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(mask_value=self.mask_value)
        return config
