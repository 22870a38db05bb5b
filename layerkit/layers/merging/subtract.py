"""Subtract: `inputs[0] - inputs[1]` for exactly two tensors."""

from .base_merge import Merge


class Subtract(Merge):
    """Subtracts the second of two tensors from the first (axes of size 1 broadcast).

    Example:
        >>> diff = Subtract()([x1, x2])  # x1 - x2
    """

    def build(self, input_shape):
        super().build(input_shape)
        if len(input_shape) != 2:
            raise ValueError(
                f"Layer '{self.name}' (Subtract) should be called on exactly 2 inputs, "
                f"received {len(input_shape)} with shapes {list(input_shape)}"
            )

    def _merge_function(self, inputs, masks):
        if len(inputs) != 2:
            raise ValueError(
                f"Layer '{self.name}' (Subtract) should be called on exactly 2 inputs, "
                f"received {len(inputs)}"
            )
        return inputs[0] - inputs[1]


def subtract(inputs, **kwargs):
    """Functional interface to `Subtract`: `subtract([x1, x2])` is `x1 - x2`.

    Args:
        inputs: list of exactly two tensors.
        **kwargs: layer arguments (name, ...).

    Returns:
        The difference of the inputs.
    """
    return Subtract(**kwargs)(inputs)
