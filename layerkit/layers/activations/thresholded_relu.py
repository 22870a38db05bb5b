"""ThresholdedReLU: `x` for `x > theta`, 0 otherwise (tf.keras 2.x; Keras 3 dropped it)."""

from ..layer import Layer


class ThresholdedReLU(Layer):
    """Keeps inputs strictly above `theta`, zeroes the rest.

    tf.keras 2.x computes `inputs * cast(inputs > theta, dtype)`
    (`keras/layers/advanced_activations.py`); so does this layer.

    Args:
        theta: float >= 0, the threshold (default 1.0).

    Example:
        >>> ThresholdedReLU(theta=0.5)
    """

    supports_masking = True

    def __init__(self, theta=1.0, **kwargs):
        super().__init__(**kwargs)
        if isinstance(theta, bool) or not isinstance(theta, (int, float)) or theta < 0:
            raise ValueError(
                f"ThresholdedReLU(theta={theta!r}): theta must be a float >= 0, "
                f"received {theta!r}"
            )
        self.theta = float(theta)

    def call(self, inputs):
        return inputs * (inputs > self.theta).to(inputs.dtype)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config["theta"] = self.theta
        return config

