"""Cropping2D: removes rows and columns at the borders of images."""

from ..convolutional import conv_utils
from ..layer import Layer


class Cropping2D(Layer):
    """Crops rows (top, bottom) and columns (left, right).

    Args:
        cropping: int, (rows, cols) for symmetric cropping, or ((top, bottom), (left, right)).
        data_format: 'channels_last' / 'channels_first' (None: the global setting).

    Example:
        >>> Cropping2D(((2, 2), (4, 4)))  # (B, 28, 28, C) -> (B, 24, 20, C)
    """

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.cropping = conv_utils.normalize_pairs(cropping, "Cropping2D", "cropping")
        self.data_format = conv_utils.normalize_data_format(data_format, "Cropping2D")

    def build(self, input_shape):
        self.compute_output_shape(input_shape)
        self.built = True

    def call(self, inputs):
        self.compute_output_shape((None,) + tuple(inputs.shape[1:]))
        first = 1 if self.data_format == "channels_last" else 2
        out = inputs
        for axis, (before, after) in enumerate(self.cropping, start=first):
            out = out.narrow(axis, before, out.shape[axis] - before - after)  # a view
        return out

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        conv_utils.check_ndim(self, input_shape, 2)
        spatial = conv_utils.spatial_dims(input_shape, self.data_format)
        if any(n is not None and sum(pair) >= n for n, pair in zip(spatial, self.cropping)):
            raise ValueError(
                f"Layer '{self.name}' (Cropping2D): cropping={self.cropping} removes all rows "
                f"or columns of input shape {input_shape}; crop less than each dimension"
            )
        spatial = tuple(None if n is None else n - sum(pair)
                        for n, pair in zip(spatial, self.cropping))
        channels = input_shape[-1] if self.data_format == "channels_last" else input_shape[1]
        return conv_utils.with_spatial(input_shape, spatial, channels, self.data_format)

    def get_config(self):
        config = super().get_config()
        config.update(cropping=self.cropping, data_format=self.data_format)
        return config
