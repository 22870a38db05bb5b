"""Lambda: wraps a Python function of tensors as a layer."""

from ...graph.shapes import is_shape
from ..layer import Layer


class Lambda(Layer):
    """Applies `function(inputs, **arguments)`.

    Args:
        function: a function of torch tensors (e.g. `lambda x: K.mean(x, axis=1)`).
        output_shape: shape without the batch axis, or a function of the input shape
            (with batch) returning the output shape; inferred by running `function` on
            meta tensors when None.
        mask: None, a mask tensor, or a function `(inputs, mask) -> mask`.
        arguments: dict of extra keyword arguments for `function`.

    Example:
        >>> Lambda(lambda x: K.mean(x, axis=1), output_shape=(100,))
    """

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(f"Lambda: function must be callable, received {function!r}")
        self.function = function
        self._output_shape = output_shape
        self.mask = mask
        self.arguments = dict(arguments or {})

    def call(self, inputs):
        return self.function(inputs, **self.arguments)

    def compute_output_shape(self, input_shape):
        if self._output_shape is None:
            return super().compute_output_shape(input_shape)
        if callable(self._output_shape):
            return self._output_shape(input_shape)
        batch = input_shape[0] if is_shape(input_shape) else input_shape[0][0]
        shape = tuple(self._output_shape)
        if is_shape(shape):
            return (batch,) + shape
        return [(batch,) + tuple(s) for s in shape]

    def compute_mask(self, inputs, mask=None):
        if callable(self.mask):
            return self.mask(inputs, mask)
        return self.mask

    def get_config(self):
        config = super().get_config()
        config.update(function=self.function, output_shape=self._output_shape, mask=self.mask,
                      arguments=self.arguments)
        return config
