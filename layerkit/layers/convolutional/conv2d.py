"""Conv2D: spatial convolution over images."""

from .base_conv import Conv


class Conv2D(Conv):
    """2D convolution; kernel in Keras layout (kh, kw, in / groups, filters).

    Args:
        filters: number of output channels.
        kernel_size: int or (kh, kw).
        strides / dilation_rate: int or pair (default 1).
        padding: 'valid' (default) or 'same' (TF placement: the odd padding row/column goes
            at the bottom/right).
        data_format: 'channels_last' (batch, rows, cols, channels) or 'channels_first'; None
            means `config.image_data_format()`.
        groups, activation, use_bias, *_initializer, *_regularizer, *_constraint: as Keras.

    Example:
        >>> Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1))
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid",
                 data_format=None, dilation_rate=(1, 1), groups=1, activation=None,
                 use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(2, filters, kernel_size, strides, padding, data_format,
                         dilation_rate, groups, activation, use_bias, kernel_initializer,
                         bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint, **kwargs)
