"""GlobalAveragePooling2D: the mean over all rows and columns."""

from .base_global_pooling import BaseGlobalPooling


class GlobalAveragePooling2D(BaseGlobalPooling):
    """Mean over all rows and columns: (batch, rows, cols, channels) → (batch, channels).

    Args:
        data_format: 'channels_last' (default from `config.image_data_format()`) or
            'channels_first'.
        keepdims: keep the reduced axes with length 1.

    Example:
        >>> GlobalAveragePooling2D()
    """

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(2, data_format, keepdims, **kwargs)

    def _reduce(self, inputs, axes):
        return inputs.mean(dim=axes, keepdim=self.keepdims)
