"""GlobalAveragePooling1D: the mean over all steps, skipping masked steps."""

import torch

from .base_global_pooling import BaseGlobalPooling


class GlobalAveragePooling1D(BaseGlobalPooling):
    """Mean over all steps: (batch, steps, channels) → (batch, channels).

    With a mask (e.g. from `Embedding(mask_zero=True)`) the mean covers the unmasked steps
    only, and the output carries no mask.

    Args:
        data_format: 'channels_last' (default from `config.image_data_format()`) or
            'channels_first' (batch, channels, steps).
        keepdims: keep the steps axis with length 1.

    Example:
        >>> GlobalAveragePooling1D()
    """

    supports_masking = True

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(1, data_format, keepdims, **kwargs)

    def call(self, inputs, mask=None):
        if mask is None:
            return super().call(inputs)
        steps_axis = self._spatial_axes()[0]
        channel_axis = 2 if self.data_format == "channels_last" else 1
        keep = mask.bool().unsqueeze(channel_axis)  # (B, T, 1) or (B, 1, T)
        total = torch.where(keep, inputs, 0).sum(dim=steps_axis, keepdim=self.keepdims)
        return total / keep.to(inputs.dtype).sum(dim=steps_axis, keepdim=self.keepdims)

    def _reduce(self, inputs, axes):
        return inputs.mean(dim=axes, keepdim=self.keepdims)

    def compute_mask(self, inputs, mask=None):
        return None
