"""The shared bases of SpatialDropout1D/2D/3D: Dropout with one mask per channel."""

from ..convolutional.conv_utils import check_ndim, normalize_data_format
from ..input_spec import InputSpec
from .dropout import Dropout


class BaseSpatialDropout(Dropout):
    """Dropout whose noise shape keeps only the batch and channel axes, so whole feature
    maps are dropped (and the kept ones scaled by 1 / (1 - rate)) during training.

    Subclasses set `rank`, the number of spatial axes; the channels are last.

    Args:
        rate: float in [0, 1), fraction of channels to drop.
        seed: optional int for a reproducible mask sequence.
    """

    rank = None
    data_format = "channels_last"  # the image subclasses take it as an argument

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
        # Dropout.call broadcasts its mask over the axes where noise_shape is 1, e.g.
        # (B, 1, 1, C) for channels_last images, (B, C, 1, 1) for channels_first.
        ones = (1,) * self.rank
        if self.data_format == "channels_first":
            self.noise_shape = (None, None) + ones
        else:
            self.noise_shape = (None,) + ones + (None,)
        self.built = True

    def get_config(self):
        config = super().get_config()
        config.pop("noise_shape")
        # Keras 3's SpatialDropout takes no `trainable` (its files never hold one): leaving
        # out the default keeps layerkit's files readable by Keras 3.
        if config["trainable"]:
            del config["trainable"]
        return config


class BaseImageSpatialDropout(BaseSpatialDropout):
    """BaseSpatialDropout with a `data_format` (SpatialDropout2D and 3D).

    Args:
        rate: float in [0, 1), fraction of channels to drop.
        data_format: 'channels_last' or 'channels_first'; None means
            `config.image_data_format()`.
        seed: optional int for a reproducible mask sequence.
    """

    def __init__(self, rate, data_format=None, seed=None, **kwargs):
        super().__init__(rate, seed=seed, **kwargs)
        self.data_format = normalize_data_format(data_format, type(self).__name__)

    def get_config(self):
        config = super().get_config()
        config.update(data_format=self.data_format)
        return config
