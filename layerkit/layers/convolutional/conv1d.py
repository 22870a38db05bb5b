"""Conv1D: temporal convolution over (batch, steps, channels)."""

from .base_conv import Conv


class Conv1D(Conv):
    """1D convolution; kernel in Keras layout (kernel_size, in / groups, filters).

    Args:
        filters: number of output channels.
        kernel_size: int or 1-tuple.
        strides / dilation_rate: int or 1-tuple (default 1).
        padding: 'valid' (default), 'same' (TF placement) or 'causal' (output t sees inputs
            up to t only).
        data_format: 'channels_last' (batch, steps, channels) or 'channels_first'; None
            means `config.image_data_format()` (Keras 3; tf.keras 2 always defaulted to
            channels_last here).
        groups, activation, use_bias, *_initializer, *_regularizer, *_constraint: as Keras.

    Example:
        >>> Conv1D(32, 7, activation="relu", input_shape=(None, 128))
    """

    _paddings = ("valid", "same", "causal")

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(1, filters, kernel_size, strides, padding, data_format,
                         dilation_rate, groups, activation, use_bias, kernel_initializer,
                         bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint, **kwargs)
