"""ELU: `x` for `x > 0`, `alpha * (exp(x) - 1)` otherwise."""

from ... import activations
from ..layer import Layer


class ELU(Layer):
    """Exponential linear unit layer.

    Args:
        alpha: float, scale of the negative part (default 1.0).

    Example:
        >>> ELU(alpha=0.5)
    """

    supports_masking = True

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)):
            raise ValueError(f"ELU(alpha={alpha!r}): alpha must be a float, received {alpha!r}")
        self.alpha = float(alpha)

    def call(self, inputs):
        return activations.elu(inputs, alpha=self.alpha)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config["alpha"] = self.alpha
        return config
