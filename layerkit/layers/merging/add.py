"""Add: element-wise sum of a list of tensors."""

from .base_merge import Merge


class Add(Merge):
    """Adds a list of tensors of one shape (axes of size 1 broadcast).

    Example:
        >>> a, b = Input(shape=(16,)), Input(shape=(16,))
        >>> added = Add()([a, b])  # (None, 16)
    """

    def _merge_function(self, inputs, masks):
        output = inputs[0]
        for x in inputs[1:]:
            output = output + x
        return output


def add(inputs, **kwargs):
    """Functional interface to `Add`: `add([x1, x2])`.

    Args:
        inputs: list of tensors (symbolic or eager).
        **kwargs: layer arguments (name, ...).

    Returns:
        The sum of the inputs.
    """
    return Add(**kwargs)(inputs)
