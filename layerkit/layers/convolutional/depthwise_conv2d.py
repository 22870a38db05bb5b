"""DepthwiseConv2D: one spatial filter (or `depth_multiplier` filters) per input channel."""

from ... import constraints, initializers, regularizers
from ..weight_options import weight_options_config
from . import conv_utils
from .base_conv import BaseConv, depthwise_convolve


class DepthwiseConv2D(BaseConv):
    """Depthwise 2D convolution; kernel in Keras layout (kh, kw, in, depth_multiplier).

    Output channel `c * depth_multiplier + m` comes from input channel `c` (Keras order).

    Args:
        kernel_size: int or (kh, kw).
        strides / dilation_rate: int or pair.
        padding: 'valid' or 'same' (TF placement).
        depth_multiplier: filters per input channel (output channels = in * multiplier).
        data_format: 'channels_last' / 'channels_first' (None: the global setting).
        activation, use_bias, depthwise_initializer / bias_initializer,
        depthwise_regularizer / bias_regularizer / activity_regularizer,
        depthwise_constraint / bias_constraint: as Keras.

    Example:
        >>> DepthwiseConv2D(3, depth_multiplier=2, padding="same")
    """

    def __init__(self, kernel_size, strides=(1, 1), padding="valid", depth_multiplier=1,
                 data_format=None, dilation_rate=(1, 1), activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, bias_constraint=None, **kwargs):
        self.depth_multiplier = conv_utils.positive_int(depth_multiplier, "DepthwiseConv2D",
                                                        "depth_multiplier")
        super().__init__(2, kernel_size, strides, padding, data_format, dilation_rate,
                         activation, use_bias, bias_initializer, bias_regularizer,
                         activity_regularizer, bias_constraint, **kwargs)
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)

    def build(self, input_shape):
        channels = self._check_input(input_shape)
        self.compute_output_shape(input_shape)  # rejects inputs smaller than the kernel
        self.add_weight("kernel", self.kernel_size + (channels, self.depth_multiplier),
                        self.depthwise_initializer, self.depthwise_regularizer,
                        constraint=self.depthwise_constraint)
        self._add_bias(channels * self.depth_multiplier)
        self.built = True

    def _convolve(self, x):
        return depthwise_convolve(self, x, self.kernel, self.bias)

    def _output_channels(self, input_channels):
        return input_channels * self.depth_multiplier

    def get_config(self):
        config = super().get_config()
        config.update(
            depth_multiplier=self.depth_multiplier,
            **weight_options_config(self, "depthwise"),
        )
        return config
