"""GlobalMaxPooling1D: the maximum over all steps."""

from .base_global_pooling import BaseGlobalPooling


class GlobalMaxPooling1D(BaseGlobalPooling):
    """Maximum over all steps: (batch, steps, channels) → (batch, channels).

    Args:
        data_format: 'channels_last' (default from `config.image_data_format()`) or
            'channels_first'.
        keepdims: keep the reduced axes with length 1.

    Example:
        >>> GlobalMaxPooling1D()
    """

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(1, data_format, keepdims, **kwargs)

    def _reduce(self, inputs, axes):
        return inputs.amax(dim=axes, keepdim=self.keepdims)
