"""Average: element-wise mean of a list of tensors."""

from .base_merge import Merge


class Average(Merge):
    """Averages a list of tensors of one shape (axes of size 1 broadcast).

    Example:
        >>> mean = Average()([x1, x2, x3])
    """

    def _merge_function(self, inputs, masks):
        output = inputs[0]
        for x in inputs[1:]:
            output = output + x
        return output / len(inputs)


def average(inputs, **kwargs):
    """Functional interface to `Average`: `average([x1, x2])`.

    Args:
        inputs: list of tensors (symbolic or eager).
        **kwargs: layer arguments (name, ...).

    Returns:
        The element-wise mean of the inputs.
    """
    return Average(**kwargs)(inputs)
