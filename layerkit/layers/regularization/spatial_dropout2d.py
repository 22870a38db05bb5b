"""SpatialDropout2D: drops whole channels of 2D feature maps."""

from ..convolutional.conv_utils import normalize_data_format
from .base_spatial_dropout import BaseSpatialDropout


class SpatialDropout2D(BaseSpatialDropout):
    """Dropout of entire 2D feature maps: one mask entry per (sample, channel).

    Args:
        rate: float in [0, 1), fraction of channels to drop.
        data_format: 'channels_last' or 'channels_first'; None means
            `config.image_data_format()`.
        seed: optional int for a reproducible mask sequence.

    Input shape: (batch, *spatial, channels) or (batch, channels, *spatial), 2 spatial axes.

    Example:
        >>> SpatialDropout2D(0.2, data_format="channels_first")
    """

    rank = 2

    def __init__(self, rate, data_format=None, seed=None, **kwargs):
        super().__init__(rate, seed=seed, **kwargs)
        self.data_format = normalize_data_format(data_format, "SpatialDropout2D")

    def _channel_noise_shape(self):
        if self.data_format == "channels_first":
            return (None, None, 1, 1)  # (B, C, 1, 1): shared over the spatial axes
        return (None, 1, 1, None)  # (B, 1, 1, C)

    def get_config(self):
        config = super().get_config()
        config.update(data_format=self.data_format)
        return config
