"""BaseGlobalPooling: reduces every spatial axis (max or mean), optionally keeping them."""

from ..convolutional import conv_utils
from ..layer import Layer


class BaseGlobalPooling(Layer):
    """Shared base of the Global{Max,Average}Pooling{1,2}D layers.

    Args:
        rank: number of spatial dimensions.
        data_format: 'channels_last' / 'channels_first' (None: the global setting).
        keepdims: keep the reduced axes with length 1 (e.g. (B, 1, 1, C)).
    """

    def __init__(self, rank, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.rank = rank
        self.data_format = conv_utils.normalize_data_format(data_format, type(self).__name__)
        self.keepdims = bool(keepdims)

    def build(self, input_shape):
        conv_utils.check_ndim(self, input_shape, self.rank)
        self.built = True

    def _spatial_axes(self):
        first = 1 if self.data_format == "channels_last" else 2
        return tuple(range(first, first + self.rank))

    def call(self, inputs):
        conv_utils.check_ndim(self, inputs.shape, self.rank)
        return self._reduce(inputs, self._spatial_axes())

    def _reduce(self, inputs, axes):
        raise NotImplementedError(f"{type(self).__name__} must implement _reduce()")

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        conv_utils.check_ndim(self, input_shape, self.rank)
        axes = self._spatial_axes()
        if self.keepdims:
            return tuple(1 if i in axes else d for i, d in enumerate(input_shape))
        return tuple(d for i, d in enumerate(input_shape) if i not in axes)

    def get_config(self):
        config = super().get_config()
        config.update(data_format=self.data_format, keepdims=self.keepdims)
        return config
