"""Reshape: gives the non-batch axes a new shape (one entry may be -1)."""

from ..layer import Layer


class Reshape(Layer):
    """Reshapes each sample to `target_shape`.

    Args:
        target_shape: tuple of ints without the batch axis; at most one -1.

    Example:
        >>> Reshape((28, 28))
    """

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        target_shape = tuple(int(d) for d in target_shape)
        if sum(d == -1 for d in target_shape) > 1 or any(d == 0 or d < -1 for d in target_shape):
            raise ValueError(
                f"Reshape(target_shape={target_shape}): entries must be positive, with at "
                "most one -1"
            )
        self.target_shape = target_shape

    def call(self, inputs):
        return inputs.reshape((inputs.shape[0],) + self.target_shape)

    def compute_output_shape(self, input_shape):
        known = 1
        for d in self.target_shape:
            if d != -1:
                known *= d
        size = 1
        for d in input_shape[1:]:
            size = None if d is None or size is None else size * d
        if size is not None and (size % known if -1 in self.target_shape else size != known):
            raise ValueError(
                f"Layer '{self.name}' (Reshape): cannot reshape input of shape "
                f"{tuple(input_shape)} ({size} values per sample) to {self.target_shape}"
            )
        out = tuple(
            (size // known if size is not None else None) if d == -1 else d
            for d in self.target_shape
        )
        return (input_shape[0],) + out

    def get_config(self):
        config = super().get_config()
        config["target_shape"] = self.target_shape
        return config
