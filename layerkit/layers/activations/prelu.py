"""PReLU: leaky ReLU whose negative slope `alpha` is learned."""

from ... import constraints, initializers, regularizers
from ..input_spec import InputSpec
from ..layer import Layer
from ..weight_options import weight_options_config


class PReLU(Layer):
    """`x` for `x >= 0`, `alpha * x` otherwise, with `alpha` a weight shaped like the input.

    Args:
        alpha_initializer / alpha_regularizer / alpha_constraint: for the `alpha` weight
            (default zeros: the layer starts as a ReLU).
        shared_axes: axes (1-based, batch excluded) sharing one alpha, e.g. `[1, 2]` for one
            slope per channel of a (B, H, W, C) feature map.

    Example:
        >>> PReLU(shared_axes=[1, 2])
    """

    supports_masking = True

    def __init__(self, alpha_initializer="zeros", alpha_regularizer=None,
                 alpha_constraint=None, shared_axes=None, **kwargs):
        super().__init__(**kwargs)
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        self.alpha_constraint = constraints.get(alpha_constraint)
        if shared_axes is None:
            self.shared_axes = None
        elif isinstance(shared_axes, (list, tuple)):
            self.shared_axes = [int(a) for a in shared_axes]
        else:
            self.shared_axes = [int(shared_axes)]

    def build(self, input_shape):
        param_shape = list(input_shape[1:])
        for axis in self.shared_axes or ():
            if not 1 <= axis < len(input_shape):
                raise ValueError(
                    f"Layer '{self.name}' (PReLU): shared_axes must name axes 1.."
                    f"{len(input_shape) - 1} of input shape {tuple(input_shape)}, "
                    f"received {self.shared_axes}"
                )
            param_shape[axis - 1] = 1
        if any(d is None for d in param_shape):
            raise ValueError(
                f"Layer '{self.name}' (PReLU) needs known non-batch dimensions, received "
                f"input shape {tuple(input_shape)}; share the unknown axes with shared_axes"
            )
        self.add_weight("alpha", tuple(param_shape), self.alpha_initializer,
                        self.alpha_regularizer, constraint=self.alpha_constraint)
        axes = {i: input_shape[i] for i in range(1, len(input_shape))
                if i not in (self.shared_axes or ())}
        self.input_spec = InputSpec(ndim=len(input_shape), axes=axes)

    def call(self, inputs):
        # Keras's form relu(x) - alpha * relu(-x): the same gradients as Keras at x = 0
        return inputs.relu() - self.alpha * (-inputs).relu()

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(weight_options_config(self, "alpha"), shared_axes=self.shared_axes)
        return config
