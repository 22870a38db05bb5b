"""Permute: reorders the non-batch axes."""

from ..layer import Layer


class Permute(Layer):
    """Permutes the non-batch axes; `dims` counts from 1 (the batch axis stays put).

    Args:
        dims: a permutation of 1..n, e.g. (2, 1) swaps the two axes of (batch, a, b).

    Example:
        >>> Permute((2, 1))  # (B, 10, 64) -> (B, 64, 10)
    """

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        try:
            dims = tuple(int(d) for d in dims)
        except (TypeError, ValueError):
            dims = None
        if dims is None or sorted(dims) != list(range(1, len(dims) + 1)):
            raise ValueError(
                f"Permute(dims={dims!r}): dims must be a permutation of 1..n (the batch axis "
                "0 is not included), e.g. (2, 1)"
            )
        self.dims = dims

    def build(self, input_shape):
        self._check_rank(input_shape)
        self.built = True

    def call(self, inputs):
        self._check_rank(inputs.shape)
        return inputs.permute(0, *self.dims)  # a view

    def compute_output_shape(self, input_shape):
        self._check_rank(input_shape)
        return (input_shape[0],) + tuple(input_shape[d] for d in self.dims)

    def _check_rank(self, shape):
        if len(shape) != len(self.dims) + 1:
            raise ValueError(
                f"Layer '{self.name}' (Permute) with dims={self.dims} expected "
                f"ndim={len(self.dims) + 1} input, received input of shape {tuple(shape)}"
            )

    def get_config(self):
        config = super().get_config()
        config["dims"] = self.dims
        return config
