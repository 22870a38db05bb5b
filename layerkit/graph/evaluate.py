"""Evaluating symbolic tensors: which nodes to run, in which order, on which values.

Who owns what: `plan` walks Nodes backwards from the wanted tensors to the fed ones and
returns them in execution order; `run` calls each node's layer on real tensors. Functional
models and `K.function` both evaluate graphs this way; neither looks inside a layer.
"""

from .node import flatten, map_structure


def plan(outputs, fed):
    """Nodes that compute `outputs` from the tensors in `fed`, producers first.

    Args:
        outputs: KerasTensors wanted.
        fed: KerasTensors whose values will be given (the walk stops there).

    Returns:
        The list of Nodes to run, in a valid execution order.

    Raises:
        ValueError: when an output depends on an input (InputLayer) that is not fed.
    """
    fed_ids = {id(t) for t in fed}
    order, expanded = [], set()
    emitted = set()
    stack = [(t, None, False) for t in reversed(list(outputs))]
    while stack:  # iterative post-order walk: deep networks exceed the recursion limit
        tensor, consumer, ready = stack.pop()
        if id(tensor) in fed_ids:
            continue
        node = tensor.node
        if node is None or not node.input_tensors:  # an input nobody feeds
            where = f" at layer '{consumer}'" if consumer else ""
            raise ValueError(
                f"Graph disconnected: cannot obtain value for tensor {tensor!r}{where}. "
                f"The given inputs were {[t.name for t in fed]}; add {tensor.name!r} to them"
            )
        if ready:
            if id(node) not in emitted:
                emitted.add(id(node))
                order.append(node)
        elif id(node) not in expanded:
            expanded.add(id(node))
            stack.append((tensor, consumer, True))
            for parent in reversed(node.input_tensors):
                stack.append((parent, node.layer.name, False))
    return order


def run(nodes, values, training=False, on_value=None):
    """Runs `nodes` in order, reading and writing `values` (a dict keyed by tensor id).

    Args:
        nodes: from `plan`.
        values: {id(KerasTensor): torch tensor} holding at least the fed tensors.
        training: the mode of layers whose call did not fix `training=` itself.
        on_value: optional `f(keras_tensor, value) -> value` applied to each output
            (K.function uses it to start gradient tapes).
    """
    for node in nodes:
        args = map_structure(lambda t: values[id(t)], node.inputs)
        kwargs = dict(node.call_kwargs)
        kwargs.setdefault("training", training)
        out = node.layer(args, **kwargs)
        for tensor, value in zip(node.output_tensors, flatten(out)):
            values[id(tensor)] = on_value(tensor, value) if on_value else value
    return values
