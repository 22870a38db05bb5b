"""ActivityRegularization: identity that adds an L1/L2 penalty on its input to the loss."""

from ... import regularizers
from ..layer import Layer


class ActivityRegularization(Layer):
    """Adds `l1 * sum(|x|) + l2 * sum(x^2)` (divided by the batch size) to the loss.

    Args:
        l1: L1 factor (>= 0).
        l2: L2 factor (>= 0).
    """

    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        if l1 < 0 or l2 < 0:
            raise ValueError(
                f"ActivityRegularization(l1={l1}, l2={l2}): factors must be >= 0"
            )
        kwargs.pop("activity_regularizer", None)
        super().__init__(activity_regularizer=regularizers.L1L2(l1=l1, l2=l2), **kwargs)
        self.l1 = l1
        self.l2 = l2

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.pop("activity_regularizer", None)
        config.update(l1=self.l1, l2=self.l2)
        return config
