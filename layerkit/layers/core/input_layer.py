"""InputLayer and `Input()`: declare the shape and dtype a model receives."""

from ...graph.node import Node
from ...graph.symbolic import KerasTensor
from ...graph.shapes import to_shape_tuple
from ...utils.naming import unique_name
from ..layer import Layer


class InputLayer(Layer):
    """Entry point of a model: identity on data, carries the batch input shape.

    Args:
        input_shape: shape without the batch dimension (Keras 3 also calls it `shape`).
        batch_size: optional fixed batch size.
        dtype: input dtype (floatx when None; use 'int32' for token ids).
        batch_input_shape: full shape including the batch dimension (tf.keras spelling).
        name: `input_1`, `input_2`, ... (tf.keras numbers inputs from 1) when None.
    """

    def __init__(self, input_shape=None, batch_size=None, dtype=None, batch_input_shape=None,
                 name=None, shape=None, sparse=False, **kwargs):
        shape = input_shape if input_shape is not None else shape
        if batch_input_shape is None:
            if shape is None:
                raise ValueError(
                    "InputLayer: give the input's shape, e.g. Input(shape=(784,)); "
                    "received neither shape, input_shape nor batch_input_shape"
                )
            batch_input_shape = (batch_size,) + to_shape_tuple(shape)
        super().__init__(name=name or unique_name("input", zero_based=False), dtype=dtype,
                         batch_input_shape=batch_input_shape, **kwargs)
        self.sparse = sparse
        self.built = True
        self._build_input_shape = self._batch_input_shape
        Node(self, [], KerasTensor(self._batch_input_shape, self.dtype, source_layer=self))

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {"batch_input_shape": self._batch_input_shape, "dtype": self.dtype,
                "sparse": self.sparse, "name": self.name}


def Input(shape=None, batch_size=None, name=None, dtype=None, sparse=False,
          batch_shape=None):
    """Returns a symbolic tensor for a model input.

    Args:
        shape: shape without the batch dimension, e.g. `(784,)`.
        batch_size: optional fixed batch size.
        name: layer name (`input_1`, ... when None).
        dtype: e.g. 'float32' (default floatx) or 'int32'.
        sparse: whether the data comes as a sparse matrix.
        batch_shape: full shape with the batch dimension, instead of shape/batch_size.

    Returns:
        A `KerasTensor`.

    Example:
        >>> x = Input(shape=(10000,))
    """
    layer = InputLayer(input_shape=shape, batch_size=batch_size, dtype=dtype,
                       batch_input_shape=batch_shape, name=name, sparse=sparse)
    return layer.output
