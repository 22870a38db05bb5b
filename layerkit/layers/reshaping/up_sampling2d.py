"""UpSampling2D: repeats rows and columns (or interpolates bilinearly)."""

import torch.nn.functional as F

from ..convolutional import conv_utils
from ..layer import Layer

_INTERPOLATIONS = ("nearest", "bilinear")


class UpSampling2D(Layer):
    """Upsamples images by integer factors.

    Args:
        size: int or (rows, cols) factors.
        data_format: 'channels_last' / 'channels_first' (None: the global setting).
        interpolation: 'nearest' (repeat each pixel) or 'bilinear' (half-pixel centres, as
            tf.image.resize and Keras 3).

    Example:
        >>> UpSampling2D((2, 2))  # (B, 14, 14, C) -> (B, 28, 28, C)
    """

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(**kwargs)
        self.size = conv_utils.normalize_tuple(size, 2, "UpSampling2D", "size")
        self.data_format = conv_utils.normalize_data_format(data_format, "UpSampling2D")
        mode = interpolation.lower() if isinstance(interpolation, str) else interpolation
        if mode not in _INTERPOLATIONS:
            raise ValueError(
                f"UpSampling2D(interpolation={interpolation!r}): interpolation must be "
                f"'nearest' or 'bilinear', received {interpolation!r}"
            )
        self.interpolation = mode

    def build(self, input_shape):
        conv_utils.check_ndim(self, input_shape, 2)
        self.built = True

    def call(self, inputs):
        conv_utils.check_ndim(self, inputs.shape, 2)
        first = 1 if self.data_format == "channels_last" else 2
        if self.interpolation == "nearest":
            rows = inputs.repeat_interleave(self.size[0], dim=first)
            return rows.repeat_interleave(self.size[1], dim=first + 1)
        x = conv_utils.to_channels_first(inputs, self.data_format)  # (B, C, H, W)
        z = F.interpolate(x, scale_factor=self.size, mode="bilinear", align_corners=False)
        return conv_utils.from_channels_first(z, self.data_format)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        conv_utils.check_ndim(self, input_shape, 2)
        spatial = tuple(None if n is None else n * f for n, f in
                        zip(conv_utils.spatial_dims(input_shape, self.data_format), self.size))
        channels = input_shape[-1] if self.data_format == "channels_last" else input_shape[1]
        return conv_utils.with_spatial(input_shape, spatial, channels, self.data_format)

    def get_config(self):
        config = super().get_config()
        config.update(size=self.size, data_format=self.data_format,
                      interpolation=self.interpolation)
        return config
