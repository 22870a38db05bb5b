"""RepeatVector: repeats a (batch, features) input n times along a new time axis."""

from ..convolutional import conv_utils
from ..layer import Layer


class RepeatVector(Layer):
    """(batch, features) → (batch, n, features).

    Args:
        n: positive int, the number of repetitions.

    Example:
        >>> RepeatVector(3)  # (B, 32) -> (B, 3, 32)
    """

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        self.n = conv_utils.positive_int(n, "RepeatVector", "n")

    def build(self, input_shape):
        self._check_rank(input_shape)
        self.built = True

    def call(self, inputs):
        self._check_rank(inputs.shape)
        return inputs.unsqueeze(1).expand(-1, self.n, -1)  # (B, n, F), a broadcast view

    def compute_output_shape(self, input_shape):
        self._check_rank(input_shape)
        return (input_shape[0], self.n, input_shape[1])

    def _check_rank(self, shape):
        if len(shape) != 2:
            raise ValueError(
                f"Layer '{self.name}' (RepeatVector) expected ndim=2 input (batch, features), "
                f"received input of shape {tuple(shape)}"
            )

    def get_config(self):
        config = super().get_config()
        config["n"] = self.n
        return config
