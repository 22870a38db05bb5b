"""MaxPooling1D: maximum over windows of steps."""

from .base_pooling import BasePooling, max_pool


class MaxPooling1D(BasePooling):
    """Maximum pooling over steps.

    Args:
        pool_size: int or tuple of 1 int(s), the window (default 2).
        strides: int, tuple or None (None = pool_size).
        padding: 'valid' (default) or 'same' (TF placement; padded cells never win).
        data_format: 'channels_last' (batch, steps, channels) or 'channels_first'; None means
            `config.image_data_format()`.

    Example:
        >>> MaxPooling1D(2)
    """

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None,
                 **kwargs):
        super().__init__(1, pool_size, strides, padding, data_format, **kwargs)

    def _pool(self, x, pairs):
        return max_pool(x, self.pool_size, self.strides, pairs)
