"""SpatialDropout1D: drops whole channels of (batch, steps, channels) sequences."""

from .base_spatial_dropout import BaseSpatialDropout


class SpatialDropout1D(BaseSpatialDropout):
    """Dropout of entire 1D feature maps: one mask entry per (sample, channel), shared over
    the steps.

    Args:
        rate: float in [0, 1), fraction of channels to drop.
        seed: optional int for a reproducible mask sequence.

    Input shape: (batch, steps, channels).

    Example:
        >>> SpatialDropout1D(0.2)
    """

    rank = 1
