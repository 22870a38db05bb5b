"""ReLU: rectified linear unit with optional cap, negative slope and threshold."""

from ... import activations
from ..layer import Layer


class ReLU(Layer):
    """`min(x, max_value)` for `x > threshold`, `negative_slope * (x - threshold)` otherwise.

    Args:
        max_value: float >= 0 or None (no cap); `ReLU(6.)` is MobileNet's ReLU6.
        negative_slope: float >= 0, slope below the threshold.
        threshold: float >= 0; inputs at or below it are damped.

    Example:
        >>> ReLU(6.)
    """

    supports_masking = True

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        for arg, value in (("max_value", max_value), ("negative_slope", negative_slope),
                           ("threshold", threshold)):
            if value is None and arg == "max_value":
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(
                    f"ReLU({arg}={value!r}): {arg} must be a float >= 0"
                    f"{' or None' if arg == 'max_value' else ''}, received {value!r}"
                )
        self.max_value = float(max_value) if max_value is not None else None
        self.negative_slope = float(negative_slope)
        self.threshold = float(threshold)

    def call(self, inputs):
        return activations.relu(inputs, negative_slope=self.negative_slope,
                                max_value=self.max_value, threshold=self.threshold)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(max_value=self.max_value, negative_slope=self.negative_slope,
                      threshold=self.threshold)
        return config
