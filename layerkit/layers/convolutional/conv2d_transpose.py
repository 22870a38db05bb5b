"""Conv2DTranspose: the transpose (gradient) of Conv2D, often called deconvolution."""

import torch.nn.functional as F

from . import conv_utils
from .base_conv import Conv


class Conv2DTranspose(Conv):
    """Transposed 2D convolution; kernel in Keras layout (kh, kw, filters, in).

    The output is exactly the gradient of a Conv2D with the same arguments (TF semantics):
    with output_padding=None, 'same' gives `n * s` rows and 'valid' gives
    `n * s + max(k - s, 0)`; with output_padding `p`, `(n - 1) * s + k - 2 * pad + p` where
    pad is `k // 2` for 'same' and 0 for 'valid'.

    Args:
        filters: number of output channels.
        kernel_size / strides / dilation_rate: int or pair.
        padding: 'valid' or 'same'.
        output_padding: None, int or pair, each entry smaller than the stride.
        data_format, activation, use_bias, kernel_/bias_ initializer, regularizer,
        constraint, activity_regularizer: as Conv2D.

    Example:
        >>> Conv2DTranspose(16, 3, strides=2, padding="same")  # doubles rows and cols
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid",
                 output_padding=None, data_format=None, dilation_rate=(1, 1), activation=None,
                 use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(2, filters, kernel_size, strides, padding, data_format,
                         dilation_rate, 1, activation, use_bias, kernel_initializer,
                         bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint, **kwargs)
        self.output_padding = None
        if output_padding is not None:
            self.output_padding = conv_utils.normalize_tuple(
                output_padding, 2, "Conv2DTranspose", "output_padding", minimum=0)
            if any(p >= s for p, s in zip(self.output_padding, self.strides)):
                raise ValueError(
                    f"Conv2DTranspose(output_padding={output_padding!r}): each output_padding "
                    f"entry must be smaller than the stride, received output_padding="
                    f"{self.output_padding} with strides={self.strides}"
                )

    def build(self, input_shape):
        channels = self._check_input(input_shape)
        self.add_weight("kernel", self.kernel_size + (self.filters, channels),
                        self.kernel_initializer, self.kernel_regularizer,
                        constraint=self.kernel_constraint,
                        storage_order=(3, 0, 1, 2) if self.data_format == "channels_last"
                        else (3, 2, 0, 1))
        self._add_bias(self.filters)
        self.built = True

    @property
    def _pointwise(self):
        return False  # a transposed 1x1 convolution spreads its input: no GEMM shortcut

    def _output_spatial(self, spatial):
        output_padding = self.output_padding or (None,) * self.rank
        return tuple(_transpose_length(n, k, s, self.padding, p, d) for n, k, s, p, d in
                     zip(spatial, self.kernel_size, self.strides, output_padding,
                         self.dilation_rate))

    def _convolve(self, x):
        # (kh, kw, filters, in) -> torch's (in, filters, kh, kw): a view laid out as torch
        # wants it for this data format (build's storage_order)
        kernel = self.kernel.permute(3, 2, 0, 1)
        full = F.conv_transpose2d(x, kernel, None, self.strides, 0, 0, 1,
                                  self.dilation_rate)  # (B, filters, (n-1)s + k_eff, ...)
        for axis, length in enumerate(self._output_spatial(x.shape[2:]), start=2):
            k, s, d = (v[axis - 2] for v in (self.kernel_size, self.strides,
                                              self.dilation_rate))
            # the forward conv of the `length`-long output pads `before` cells at the start
            before = conv_utils.pad_pair(length, k, s, self.padding, d)[0]
            full = full.narrow(axis, before, min(length, full.shape[axis] - before))
            if full.shape[axis] < length:  # trailing cells no window reaches: zeros
                pads = [0, 0] * (full.dim() - 1 - axis) + [0, length - full.shape[axis]]
                full = F.pad(full, pads)
        if self.bias is not None:
            full = full + self.bias.view(-1, 1, 1)
        return full

    def get_config(self):
        config = super().get_config()
        del config["groups"]
        config["output_padding"] = self.output_padding
        return config


def _transpose_length(n, kernel, stride, padding, output_padding, dilation):
    """tf.keras `deconv_output_length`: the output steps of a transposed convolution."""
    if n is None:
        return None
    k_eff = conv_utils.effective_size(kernel, dilation)
    if output_padding is None:
        return n * stride + (max(k_eff - stride, 0) if padding == "valid" else 0)
    pad = k_eff // 2 if padding == "same" else 0
    return (n - 1) * stride + k_eff - 2 * pad + output_padding
