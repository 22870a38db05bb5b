"""SpatialDropout2D: drops whole channels of 2D feature maps."""

from .base_spatial_dropout import BaseImageSpatialDropout


class SpatialDropout2D(BaseImageSpatialDropout):
    """Dropout of entire 2D feature maps: one mask entry per (sample, channel), shared over
    the 2 spatial axes.

    Args:
        rate: float in [0, 1), fraction of channels to drop.
        data_format: 'channels_last' or 'channels_first'; None means
            `config.image_data_format()`.
        seed: optional int for a reproducible mask sequence.

    Input shape: (batch, *spatial, channels) or (batch, channels, *spatial).

    Example:
        >>> SpatialDropout2D(0.2, data_format="channels_first")
    """

    rank = 2
