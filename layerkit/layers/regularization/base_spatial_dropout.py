"""The shared base of SpatialDropout1D/2D/3D: Dropout with one mask per channel."""

from ..convolutional.conv_utils import check_ndim
from ..input_spec import InputSpec
from .dropout import Dropout


class BaseSpatialDropout(Dropout):
    """Dropout whose noise shape keeps only the batch and channel axes, so whole feature
    maps are dropped (and the kept ones scaled by 1 / (1 - rate)) during training.

    Subclasses set `rank` (the number of spatial axes) and `_channel_noise_shape()`.

    Args:
        rate: float in [0, 1), fraction of channels to drop.
        seed: optional int for a reproducible mask sequence.
    """

    rank = None

    def __init__(self, rate, seed=None, **kwargs):
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate < 1:
            raise ValueError(
                f"{type(self).__name__}(rate={rate!r}): rate must be a float in [0, 1), "
                f"received {rate!r}"
            )
        super().__init__(rate, noise_shape=None, seed=seed, **kwargs)
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def build(self, input_shape):
        check_ndim(self, input_shape, self.rank)
        # Dropout.call broadcasts its mask over the axes where noise_shape is 1.
        self.noise_shape = self._channel_noise_shape()
        self.built = True

    def _channel_noise_shape(self):
        raise NotImplementedError(f"{type(self).__name__} must define _channel_noise_shape()")

    def get_config(self):
        config = super().get_config()
        config.pop("noise_shape")
        return config
