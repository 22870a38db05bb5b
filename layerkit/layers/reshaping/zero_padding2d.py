"""ZeroPadding2D: adds rows and columns of zeros around images."""

import torch.nn.functional as F

from ..convolutional import conv_utils
from ..layer import Layer


class ZeroPadding2D(Layer):
    """Pads rows (top, bottom) and columns (left, right) with zeros.

    Args:
        padding: int, (rows, cols) for symmetric padding, or ((top, bottom), (left, right)).
        data_format: 'channels_last' / 'channels_first' (None: the global setting).

    Example:
        >>> ZeroPadding2D(((1, 0), (2, 2)))  # (B, 28, 28, C) -> (B, 29, 32, C)
    """

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.padding = conv_utils.normalize_pairs(padding, "ZeroPadding2D", "padding")
        self.data_format = conv_utils.normalize_data_format(data_format, "ZeroPadding2D")

    def build(self, input_shape):
        conv_utils.check_ndim(self, input_shape, 2)
        self.built = True

    def call(self, inputs):
        conv_utils.check_ndim(self, inputs.shape, 2)
        (top, bottom), (left, right) = self.padding
        if self.data_format == "channels_last":  # F.pad lists the last axis first
            return F.pad(inputs, (0, 0, left, right, top, bottom))
        return F.pad(inputs, (left, right, top, bottom))

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        conv_utils.check_ndim(self, input_shape, 2)
        spatial = tuple(None if n is None else n + sum(pair) for n, pair in
                        zip(conv_utils.spatial_dims(input_shape, self.data_format),
                            self.padding))
        channels = input_shape[-1] if self.data_format == "channels_last" else input_shape[1]
        return conv_utils.with_spatial(input_shape, spatial, channels, self.data_format)

    def get_config(self):
        config = super().get_config()
        config.update(padding=self.padding, data_format=self.data_format)
        return config
