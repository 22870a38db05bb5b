"""BaseConv: what every convolution layer shares (spatial arguments, bias, activation).

Who owns what: `BaseConv` validates the spatial arguments, checks input ranks, moves
channels_last data to channels-first views around the torch kernel, adds the activation and
computes output shapes arithmetically (so unknown lengths, e.g. Conv1D over variable-length
text, stay None). Subclasses create their kernels in `build` and implement
`_convolve(x)` on channels-first tensors.

Weights stay in Keras layouts ((k..., in, out) kernels) so get_weights / set_weights are
Keras-compatible; `call` permutes them to torch's (out, in, k...) as views.

channels_last data: `x.movedim(-1, 1)` is a view whose memory is torch's channels_last
format, which the CPU (oneDNN) and cuDNN convolutions consume directly and answer in the
same format, so moving the result back is again a view — no copy on either side
(measured: the same time as feeding NCHW-contiguous data, while `.contiguous()` on either
side adds a full copy).
"""

import torch.nn.functional as F

from ... import activations, constraints, initializers, regularizers
from ..layer import Layer, activate
from ..weight_options import weight_options_config
from . import conv_utils

CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}


class BaseConv(Layer):
    """Shared base of Conv1D, Conv2D, Conv2DTranspose, DepthwiseConv2D, SeparableConv2D.

    Args:
        rank: number of spatial dimensions (1 or 2).
        kernel_size / strides / dilation_rate: int or tuple of `rank` ints.
        padding: 'valid', 'same' (TF placement: the extra cell at the end), or 'causal'
            (Conv1D only: all padding before the sequence).
        data_format: 'channels_last' (default from `config.image_data_format()`) or
            'channels_first'.
        activation: name or callable (None = linear).
        use_bias: whether to add a bias per output channel.
        bias_initializer / bias_regularizer / bias_constraint: for the bias vector.
    """

    _paddings = ("valid", "same")

    def __init__(self, rank, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, activation=None, use_bias=True, bias_initializer="zeros",
                 bias_regularizer=None, activity_regularizer=None, bias_constraint=None,
                 **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        owner = type(self).__name__
        self.rank = rank
        self.kernel_size = conv_utils.normalize_tuple(kernel_size, rank, owner, "kernel_size")
        self.strides = conv_utils.normalize_tuple(strides, rank, owner, "strides")
        self.dilation_rate = conv_utils.normalize_tuple(dilation_rate, rank, owner,
                                                        "dilation_rate")
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(
                f"{owner}(strides={self.strides}, dilation_rate={self.dilation_rate}): "
                "strides > 1 cannot be combined with dilation_rate > 1 (as in Keras); set "
                "one of them to 1"
            )
        self.padding = conv_utils.normalize_padding(padding, owner, self._paddings)
        self.data_format = conv_utils.normalize_data_format(data_format, owner)
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.bias_initializer = initializers.get(bias_initializer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.bias_constraint = constraints.get(bias_constraint)

    def _add_bias(self, size):
        """Creates the bias of `size` entries (or sets `self.bias = None`)."""
        if self.use_bias:
            self.add_weight("bias", (size,), self.bias_initializer, self.bias_regularizer,
                            constraint=self.bias_constraint)
        else:
            self.bias = None

    def _check_input(self, input_shape):
        """Checks the rank and returns the (known) input channel count."""
        conv_utils.check_ndim(self, input_shape, self.rank)
        return conv_utils.channel_dim(self, input_shape)

    def call(self, inputs):
        conv_utils.check_ndim(self, inputs.shape, self.rank)
        inputs = inputs.to(self.torch_dtype)  # e.g. uint8 images; a no-op for float32
        x = conv_utils.to_channels_first(inputs, self.data_format)  # (B, C, *spatial)
        z = self._convolve(x)  # (B, C_out, *spatial_out), bias included
        return activate(self.activation, conv_utils.from_channels_first(z, self.data_format))

    def _convolve(self, x):
        raise NotImplementedError(f"{type(self).__name__} must implement _convolve()")

    def _padded(self, x):
        """Applies this layer's padding to channels-first `x`; returns (x, torch padding)."""
        pairs = [conv_utils.pad_pair(n, k, s, self.padding, d) for n, k, s, d in
                 zip(x.shape[2:], self.kernel_size, self.strides, self.dilation_rate)]
        return conv_utils.pad_spatial(x, pairs)

    def _output_spatial(self, spatial):
        return tuple(conv_utils.output_length(n, k, s, self.padding, d) for n, k, s, d in
                     zip(spatial, self.kernel_size, self.strides, self.dilation_rate))

    def _output_channels(self, input_channels):
        return self.filters

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        channels = self._check_input(input_shape)
        spatial = self._output_spatial(conv_utils.spatial_dims(input_shape, self.data_format))
        if any(n is not None and n <= 0 for n in spatial):
            raise ValueError(
                f"Layer '{self.name}' ({type(self).__name__}): input shape {input_shape} is too "
                f"small for kernel_size={self.kernel_size}, dilation_rate="
                f"{self.dilation_rate} with padding={self.padding!r} (output {spatial}); use "
                "padding='same' or a larger input"
            )
        return conv_utils.with_spatial(input_shape, spatial, self._output_channels(channels),
                                       self.data_format)

    def get_config(self):
        config = super().get_config()
        config.update(
            kernel_size=self.kernel_size,
            strides=self.strides,
            padding=self.padding,
            data_format=self.data_format,
            dilation_rate=self.dilation_rate,
            activation=activations.serialize(self.activation),
            use_bias=self.use_bias,
            **weight_options_config(self, "bias"),
        )
        return config


class Conv(BaseConv):
    """Convolution with `filters` outputs and a (k..., in / groups, filters) kernel.

    Args:
        filters: positive int, the number of output channels.
        groups: positive int dividing both filters and the input channels.
        kernel_initializer / kernel_regularizer / kernel_constraint: for the kernel.
        The rest: see `BaseConv`.
    """

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid",
                 data_format=None, dilation_rate=1, groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        owner = type(self).__name__
        self.filters = conv_utils.positive_int(filters, owner, "filters")
        self.groups = conv_utils.positive_int(groups, owner, "groups")
        if self.filters % self.groups:
            raise ValueError(
                f"{owner}(filters={filters}, groups={groups}): filters must be divisible by "
                f"groups, received filters={filters}, groups={groups}"
            )
        super().__init__(rank, kernel_size, strides, padding, data_format, dilation_rate,
                         activation, use_bias, bias_initializer, bias_regularizer,
                         activity_regularizer, bias_constraint, **kwargs)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)

    def build(self, input_shape):
        channels = self._check_input(input_shape)
        if channels % self.groups:
            raise ValueError(
                f"Layer '{self.name}' ({type(self).__name__}): the input channels must be "
                f"divisible by groups={self.groups}, received input shape {tuple(input_shape)}"
            )
        self.compute_output_shape(input_shape)  # rejects inputs smaller than the kernel
        self.add_weight("kernel", self.kernel_size + (channels // self.groups, self.filters),
                        self.kernel_initializer, self.kernel_regularizer,
                        constraint=self.kernel_constraint, storage_order=self._memory_order())
        self._add_bias(self.filters)
        self.built = True

    def _torch_order(self):
        """Keras (k..., in, out) axes in torch's (out, in, k...) order."""
        return (self.rank + 1, self.rank, *range(self.rank))

    def _memory_order(self):
        """The kernel's memory order: the layout torch's convolution asks of its weight for
        this data format ((out, k..., in) next to channels_last data, (out, in, k...) next
        to channels_first), so it is used as it is, never copied per call."""
        if self.data_format == "channels_last":
            return (self.rank + 1, *range(self.rank), self.rank)
        return self._torch_order()

    def call(self, inputs):
        if self._pointwise and self.data_format == "channels_last":
            # A 1x1 kernel on channels_last data is a matrix product over the channels of
            # the (strided) positions: one GEMM, where torch's convolution would reorder
            # both tensors first. Same sums, so the same numbers up to float32 rounding.
            conv_utils.check_ndim(self, inputs.shape, self.rank)
            x = inputs.to(self.torch_dtype)
            x = x[(slice(None),) + tuple(slice(None, None, s) for s in self.strides)]
            weight = self.kernel.permute(*self._torch_order()).flatten(1)  # (out, in)
            return activate(self.activation, F.linear(x, weight, self.bias))
        return super().call(inputs)

    @property
    def _pointwise(self):
        return self.groups == 1 and all(k == 1 for k in self.kernel_size)

    def _convolve(self, x):
        x, padding = self._padded(x)
        # (k..., in, out) -> torch's (out, in, k...): a view in the memory layout torch
        # wants for this data format (see _memory_order)
        kernel = self.kernel.permute(*self._torch_order())
        return CONV[self.rank](x, kernel, self.bias, self.strides, padding, self.dilation_rate,
                               self.groups)

    def get_config(self):
        config = super().get_config()
        config.update(
            filters=self.filters,
            groups=self.groups,
            **weight_options_config(self, "kernel"),
        )
        return config


def depthwise_convolve(layer, x, kernel, bias):
    """Per-channel convolution of channels-first `x` with a Keras (k..., in, multiplier) kernel.

    Output channel `c * multiplier + m` is input channel `c` convolved with `kernel[..., c, m]`
    (Keras's order), i.e. torch's grouped convolution with groups = in channels.
    """
    in_channels, multiplier = kernel.shape[-2:]
    x, padding = layer._padded(x)
    # (k..., in, m) -> (k..., 1, in*m) -> torch's (in*m, 1, k...); a view after reshape
    weight = kernel.reshape(*kernel.shape[:-2], 1, in_channels * multiplier)
    weight = weight.permute(layer.rank + 1, layer.rank, *range(layer.rank))
    return CONV[layer.rank](x, weight, bias, layer.strides, padding, layer.dilation_rate,
                            in_channels)
