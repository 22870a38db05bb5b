"""InputSpec: what a built layer accepts (rank, fixed axes), checked on graph connection."""


class InputSpec:
    """Constraints on one input of a layer.

    Args:
        ndim: exact rank (including the batch axis), or None.
        min_ndim: minimum rank, or None.
        axes: {axis: size} that must match, e.g. {-1: 784} for a built Dense.
    """

    def __init__(self, ndim=None, min_ndim=None, axes=None):
        self.ndim = ndim
        self.min_ndim = min_ndim
        self.axes = dict(axes or {})

    def check(self, layer_name, shape, index=0):
        """Raises ValueError (tf.keras wording) if `shape` breaks the spec."""
        prefix = f"Input {index} of layer '{layer_name}' is incompatible with the layer:"
        rank = len(shape)
        if self.ndim is not None and rank != self.ndim:
            raise ValueError(f"{prefix} expected ndim={self.ndim}, found ndim={rank}. "
                             f"Full shape received: {tuple(shape)}")
        if self.min_ndim is not None and rank < self.min_ndim:
            raise ValueError(f"{prefix} expected min_ndim={self.min_ndim}, found "
                             f"ndim={rank}. Full shape received: {tuple(shape)}")
        for axis, size in self.axes.items():
            got = shape[axis] if -rank <= axis < rank else None
            if got is not None and size is not None and got != size:
                raise ValueError(f"{prefix} expected axis {axis} of input shape to have value "
                                 f"{size}, but received input with shape {tuple(shape)}")
