"""TensorOp: one operation on symbolic tensors (indexing, arithmetic, a `K.*` function).

Keras 2 built graphs from expressions such as `model.output[:, 386]` or
`K.mean(layer.output[:, :, :, 3])`; tf.keras records them as TFOpLambda layers, Keras 3 as
operations. Here each becomes a TensorOp: a weightless layer holding the torch function
and its non-symbolic arguments, recorded as a Node like any layer call, so the result can
be a model output, feed further layers, or be evaluated by `K.function`.

An operation met while a graph is being evaluated (inside a custom layer's `call`, on a
tensor of the enclosing graph) records nothing: it computes on that tensor's value in the
current forward pass (`graph.evaluate.value_of`).
"""

import numpy as np
import torch

from ... import config
from ...graph import evaluate
from ...graph.node import flatten, map_structure
from ...graph.shapes import infer_output_spec
from ...graph.symbolic import KerasTensor, set_op_recorder
from ...utils.naming import unique_name
from ..layer import Layer


class _Slot:
    """Stands for the i-th symbolic argument inside the stored argument structure."""

    def __init__(self, index):
        self.index = index


class TensorOp(Layer):
    """Applies `fn(*args, **kwargs)`, the symbolic tensors in them fed at call time.

    Args:
        fn: a torch function.
        args, kwargs: its arguments; KerasTensors anywhere inside lists, tuples and dicts
            become the layer's inputs, the rest is stored (numpy arrays as tensors).
        name: base name of the operation (`get_item`, `mean`, ...).
        output_spec: (shapes, dtypes, several) when it cannot be inferred by running `fn`
            on stand-in tensors (gradients).

    `TensorOp(...).record()` records the node and returns the symbolic output(s).
    """

    def __init__(self, fn, args, kwargs, name="op", output_spec=None):
        self.symbolic_inputs = [leaf for leaf in flatten([list(args), kwargs])
                                if isinstance(leaf, KerasTensor)]
        positions = {id(t): i for i, t in enumerate(self.symbolic_inputs)}
        self._template = map_structure(
            lambda leaf: _Slot(positions[id(leaf)]) if isinstance(leaf, KerasTensor)
            else _constant(leaf), (list(args), kwargs))
        self.fn = fn
        if output_spec is None:
            shapes = [t.shape for t in self.symbolic_inputs]
            dtypes = [config.standardize_dtype(t.dtype) for t in self.symbolic_inputs]
            try:
                output_spec = infer_output_spec(self._apply, shapes, dtypes)
            except Exception as e:
                raise ValueError(
                    f"Operation '{name}' cannot be applied to symbolic tensors of shapes "
                    f"{shapes}: {e}"
                ) from e
        self.output_shapes, out_dtypes, self.several = output_spec
        super().__init__(name=unique_name(name), dtype=_dtype_name(out_dtypes[0]))
        self.built = True

    def _apply(self, values):
        args, kwargs = map_structure(
            lambda leaf: values[leaf.index] if isinstance(leaf, _Slot) else leaf,
            self._template)
        return self.fn(*args, **kwargs)

    def call(self, inputs):
        return self._apply(inputs)

    def compute_output_shape(self, input_shape):
        return list(self.output_shapes) if self.several else self.output_shapes[0]

    def record(self):
        """Records the node on the symbolic inputs; returns the symbolic output(s)."""
        return self(list(self.symbolic_inputs))

    def get_config(self):
        raise NotImplementedError(
            f"'{self.name}' is an operation recorded from a symbolic-tensor expression "
            "(indexing, arithmetic or a backend function on layer outputs); it cannot be "
            "saved. Put the expression in a Lambda layer to save the model"
        )


def _constant(value):
    if isinstance(value, (np.ndarray, np.generic)) and value.dtype.kind in "fiub":
        tensor = torch.as_tensor(np.asarray(value))
        return tensor.to(config.floatx_dtype()) if tensor.is_floating_point() else tensor
    return value


def _dtype_name(dtype):
    return str(dtype).replace("torch.", "")


def _record(fn, args, kwargs, name, output_spec=None):
    if evaluate.in_progress():  # inside a call during a forward pass: compute, not record
        args, kwargs = evaluate.resolve((list(args), kwargs))
        return fn(*args, **kwargs)
    return TensorOp(fn, args, kwargs, name=name, output_spec=output_spec).record()


set_op_recorder(_record)
