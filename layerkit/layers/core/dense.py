"""Dense: `activation(inputs @ kernel + bias)` on the last axis."""

import numbers

import torch

from ... import activations, constraints, initializers, regularizers
from ..input_spec import InputSpec
from ..layer import Layer, activate
from ..weight_options import weight_options_config


class Dense(Layer):
    """Densely connected layer; kernel in Keras layout (input_dim, units).

    Accepts a torch sparse CSR/COO batch as input (the engine passes scipy.sparse data that
    way), so a 10000-wide multi-hot input is never densified.

    Args:
        units: positive int, output width.
        activation: name or callable (None = linear).
        use_bias: whether to add a bias vector.
        kernel_initializer / bias_initializer: Keras defaults glorot_uniform / zeros.
        kernel_regularizer / bias_regularizer / activity_regularizer: penalties.
        kernel_constraint / bias_constraint: projections after each update.

    Example:
        >>> Dense(16, activation="relu", input_shape=(10000,))
    """

    supports_masking = True

    def __init__(self, units, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        # numpy integers count (the book's VAE passes np.prod(shape) as units)
        if isinstance(units, bool) or not isinstance(units, numbers.Integral) or units <= 0:
            raise ValueError(
                f"Dense(units={units!r}): units must be a positive integer, received {units!r}"
            )
        self.units = int(units)
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)

    def build(self, input_shape):
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError(
                f"Layer '{self.name}' (Dense) needs a known last input dimension, "
                f"received input shape {input_shape}"
            )
        self.input_spec = InputSpec(min_ndim=2, axes={-1: input_dim})
        self.add_weight("kernel", (input_dim, self.units), self.kernel_initializer,
                        self.kernel_regularizer, constraint=self.kernel_constraint)
        if self.use_bias:
            self.add_weight("bias", (self.units,), self.bias_initializer,
                            self.bias_regularizer, constraint=self.bias_constraint)
        else:
            self.bias = None
        self.built = True  # as tf.keras Dense does: build() called directly counts

    def call(self, inputs, training=False):
        if inputs.layout != torch.strided:
            z = torch.sparse.mm(inputs, self.kernel)  # (B, in) sparse @ (in, units)
            if self.bias is not None:
                z = z + self.bias
        else:
            if inputs.dtype != self.kernel.dtype:
                inputs = inputs.to(self.kernel.dtype)
            if inputs.dim() == 2 and self.bias is not None:
                z = torch.addmm(self.bias, inputs, self.kernel)
            else:
                z = torch.matmul(inputs, self.kernel)  # (..., in) @ (in, units)
                if self.bias is not None:
                    z = z + self.bias
        return activate(self.activation, z)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        config = super().get_config()
        config.update(
            units=self.units,
            activation=activations.serialize(self.activation),
            use_bias=self.use_bias,
            **weight_options_config(self, "kernel", "bias"),
        )
        return config
