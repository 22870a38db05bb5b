"""BasePooling: windowed max / average pooling with TF 'same' semantics.

Who owns what: `BasePooling` validates arguments, checks ranks, moves channels_last data to
channels-first views around the torch kernels and computes output shapes; the public
classes choose `max_pool` or `average_pool`.

'same' as TensorFlow: the padding is asymmetric (extra cell at the end) and padded cells
never count — max pooling pads with -inf, average pooling divides by the number of real
cells in each window. (Keras 3.15's torch backend gets the average wrong when the padding
is asymmetric, e.g. pool 3, stride 2 over 6 steps; we follow TF.)
"""

import torch
import torch.nn.functional as F

from ..convolutional import conv_utils
from ..layer import Layer

MAX_POOL = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
AVG_POOL = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}


class BasePooling(Layer):
    """Shared base of MaxPooling1D/2D and AveragePooling1D/2D.

    Args:
        rank: number of spatial dimensions.
        pool_size: int or tuple of `rank` ints, the window.
        strides: int, tuple or None (None = pool_size, as Keras).
        padding: 'valid' or 'same'.
        data_format: 'channels_last' / 'channels_first' (None: the global setting).
    """

    def __init__(self, rank, pool_size, strides=None, padding="valid", data_format=None,
                 **kwargs):
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.rank = rank
        self.pool_size = conv_utils.normalize_tuple(pool_size, rank, owner, "pool_size")
        self.strides = self.pool_size if strides is None else conv_utils.normalize_tuple(
            strides, rank, owner, "strides")
        self.padding = conv_utils.normalize_padding(padding, owner)
        self.data_format = conv_utils.normalize_data_format(data_format, owner)

    def build(self, input_shape):
        conv_utils.check_ndim(self, input_shape, self.rank)
        self.built = True

    def call(self, inputs):
        conv_utils.check_ndim(self, inputs.shape, self.rank)
        x = conv_utils.to_channels_first(inputs, self.data_format)  # (B, C, *spatial)
        pairs = [conv_utils.pad_pair(n, k, s, self.padding) for n, k, s in
                 zip(x.shape[2:], self.pool_size, self.strides)]
        return conv_utils.from_channels_first(self._pool(x, pairs), self.data_format)

    def _pool(self, x, pairs):
        raise NotImplementedError(f"{type(self).__name__} must implement _pool()")

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        conv_utils.check_ndim(self, input_shape, self.rank)
        spatial = tuple(
            conv_utils.output_length(n, k, s, self.padding) for n, k, s in
            zip(conv_utils.spatial_dims(input_shape, self.data_format), self.pool_size,
                self.strides)
        )
        channels = input_shape[-1] if self.data_format == "channels_last" else input_shape[1]
        return conv_utils.with_spatial(input_shape, spatial, channels, self.data_format)

    def get_config(self):
        config = super().get_config()
        config.update(pool_size=self.pool_size, padding=self.padding, strides=self.strides,
                      data_format=self.data_format)
        return config


def max_pool(x, pool_size, strides, pairs):
    """Max over windows of channels-first `x`; padded cells (-inf) never win."""
    rank = len(pool_size)
    x, padding = conv_utils.pad_spatial(x, pairs, value=-float("inf"))
    return MAX_POOL[rank](x, pool_size, strides, padding)


def average_pool(x, pool_size, strides, pairs):
    """Mean over windows of channels-first `x`, counting only real (unpadded) cells."""
    rank = len(pool_size)
    if all(before == after for before, after in pairs):
        padding = tuple(before for before, _ in pairs)
        return AVG_POOL[rank](x, pool_size, strides, padding, count_include_pad=False)
    # asymmetric: zero-pad, then divide by the share of real cells in each window
    padded, _ = conv_utils.pad_spatial(x, pairs)
    ones, _ = conv_utils.pad_spatial(torch.ones((1, 1) + tuple(x.shape[2:]), dtype=x.dtype,
                                                device=x.device), pairs)
    return AVG_POOL[rank](padded, pool_size, strides) / AVG_POOL[rank](ones, pool_size, strides)
