"""Nodes: one call of a layer on symbolic tensors, the edges of a functional graph.

Who owns what: `Layer.__call__` creates a Node when called on KerasTensors; `Functional`
walks nodes backwards from its outputs to order them; nothing here runs any math.
"""

from .symbolic import KerasTensor


def flatten(structure):
    """Leaves of a nested list/tuple/dict structure, in order (dicts by insertion)."""
    if isinstance(structure, dict):
        return [leaf for value in structure.values() for leaf in flatten(value)]
    if isinstance(structure, (list, tuple)):
        return [leaf for item in structure for leaf in flatten(item)]
    return [structure]


def map_structure(fn, structure):
    """Applies `fn` to every leaf, keeping lists, tuples and dicts."""
    if isinstance(structure, dict):
        return {k: map_structure(fn, v) for k, v in structure.items()}
    if isinstance(structure, (list, tuple)):
        return type(structure)(map_structure(fn, v) for v in structure)
    return fn(structure)


def is_symbolic(structure):
    """True if any leaf is a KerasTensor."""
    return any(isinstance(leaf, KerasTensor) for leaf in flatten(structure))


class Node:
    """Records `outputs = layer(inputs, **call_kwargs)` for symbolic tensors.

    Args:
        layer: the layer called.
        inputs: the KerasTensor structure it was called on.
        outputs: the KerasTensor(s) produced (their `history` points back here).
        call_kwargs: extra keyword arguments of the call (e.g. `training`).
    """

    def __init__(self, layer, inputs, outputs, call_kwargs=None):
        self.layer = layer
        self.inputs = inputs
        self.outputs = outputs
        self.input_tensors = flatten(inputs)
        self.output_tensors = flatten(outputs)
        self.call_kwargs = dict(call_kwargs or {})
        calls = layer.inbound_nodes
        self.index = len(calls)
        calls.append(self)
        for i, tensor in enumerate(self.output_tensors):
            tensor.history = (self, i)

    @property
    def parent_nodes(self):
        return [t.history[0] for t in self.input_tensors if t.history is not None]
