"""LeakyReLU: `x` for `x >= 0`, `alpha * x` otherwise."""

from ... import activations
from ..layer import Layer


class LeakyReLU(Layer):
    """Leaky rectified linear unit with tf.keras 2.x's default slope 0.3.

    Args:
        alpha: float >= 0, slope for negative inputs (tf.keras 2.x's name and default).
        negative_slope: Keras 3's name for `alpha`; wins when given.

    Example:
        >>> LeakyReLU(alpha=0.1)
    """

    supports_masking = True

    def __init__(self, alpha=0.3, negative_slope=None, **kwargs):
        super().__init__(**kwargs)
        if negative_slope is not None:
            alpha = negative_slope
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or alpha < 0:
            raise ValueError(
                f"LeakyReLU(alpha={alpha!r}): alpha (Keras 3: negative_slope) must be a "
                f"float >= 0, received {alpha!r}"
            )
        self.alpha = float(alpha)

    def call(self, inputs):
        return activations.leaky_relu(inputs, negative_slope=self.alpha)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config["alpha"] = self.alpha  # tf.keras 2.x's key; Keras 3 reads it too
        return config
