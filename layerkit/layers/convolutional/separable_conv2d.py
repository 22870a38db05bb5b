"""SeparableConv2D: a depthwise convolution followed by a 1x1 (pointwise) convolution."""

import torch.nn.functional as F

from ... import constraints, initializers, regularizers
from ..weight_options import weight_options_config
from . import conv_utils
from .base_conv import BaseConv, depthwise_convolve


class SeparableConv2D(BaseConv):
    """Depthwise-separable 2D convolution.

    Weights (Keras layouts): depthwise_kernel (kh, kw, in, depth_multiplier),
    pointwise_kernel (1, 1, in * depth_multiplier, filters), bias (filters,). Strides,
    dilation and padding apply to the depthwise step; the pointwise step is 1x1.

    Args:
        filters: number of output channels.
        kernel_size / strides / dilation_rate / padding / data_format: as Conv2D.
        depth_multiplier: depthwise filters per input channel.
        activation, use_bias, depthwise_/pointwise_/bias_ initializer, regularizer,
        constraint, activity_regularizer: as Keras.

    Example:
        >>> SeparableConv2D(64, 3, padding="same", activation="relu")
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid",
                 data_format=None, dilation_rate=(1, 1), depth_multiplier=1, activation=None,
                 use_bias=True, depthwise_initializer="glorot_uniform",
                 pointwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, pointwise_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, depthwise_constraint=None,
                 pointwise_constraint=None, bias_constraint=None, **kwargs):
        self.filters = conv_utils.positive_int(filters, "SeparableConv2D", "filters")
        self.depth_multiplier = conv_utils.positive_int(depth_multiplier, "SeparableConv2D",
                                                        "depth_multiplier")
        super().__init__(2, kernel_size, strides, padding, data_format, dilation_rate,
                         activation, use_bias, bias_initializer, bias_regularizer,
                         activity_regularizer, bias_constraint, **kwargs)
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.pointwise_regularizer = regularizers.get(pointwise_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)
        self.pointwise_constraint = constraints.get(pointwise_constraint)

    def build(self, input_shape):
        channels = self._check_input(input_shape)
        self.compute_output_shape(input_shape)  # rejects inputs smaller than the kernel
        self.add_weight("depthwise_kernel", self.kernel_size + (channels, self.depth_multiplier),
                        self.depthwise_initializer, self.depthwise_regularizer,
                        constraint=self.depthwise_constraint)
        self.add_weight("pointwise_kernel",
                        (1, 1, channels * self.depth_multiplier, self.filters),
                        self.pointwise_initializer, self.pointwise_regularizer,
                        constraint=self.pointwise_constraint)
        self._add_bias(self.filters)
        self.built = True

    def _convolve(self, x):
        z = depthwise_convolve(self, x, self.depthwise_kernel, None)  # (B, in*m, H', W')
        # (1, 1, in*m, filters) -> torch's (filters, in*m, 1, 1): a view
        return F.conv2d(z, self.pointwise_kernel.permute(3, 2, 0, 1), self.bias)

    def get_config(self):
        config = super().get_config()
        config.update(
            filters=self.filters,
            depth_multiplier=self.depth_multiplier,
            **weight_options_config(self, "depthwise", "pointwise"),
        )
        return config
