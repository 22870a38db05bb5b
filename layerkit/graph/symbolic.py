"""Symbolic tensors: what `Input(...)` returns, a shape and dtype without data."""

from .shapes import to_shape_tuple


class KerasTensor:
    """A placeholder for a batch of data: a shape (batch entry may be None) and a dtype.

    Args:
        shape: full shape including the batch dimension.
        dtype: dtype name, e.g. 'float32' or 'int32'.
        source_layer: the layer that produced it (an InputLayer for model inputs).
    """

    def __init__(self, shape, dtype, source_layer=None):
        self.shape = to_shape_tuple(shape)
        self.dtype = dtype
        self.source_layer = source_layer
        self.history = None  # (Node, output index), set by the Node that produced it

    @property
    def node(self):
        return self.history[0] if self.history is not None else None

    @property
    def name(self):
        return self.source_layer.name if self.source_layer is not None else None

    @property
    def ndim(self):
        return len(self.shape)

    def __len__(self):
        raise TypeError(
            f"{self!r} is symbolic: it has no length. Call the model on data to get values"
        )

    def __repr__(self):
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, name={self.name}>"
