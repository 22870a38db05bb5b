"""Evaluating symbolic tensors: which nodes to run, in which order, on which values.

Who owns what: `plan` walks Nodes backwards from the wanted tensors to the fed ones and
returns them in execution order; `run` calls each node's layer on real tensors. Functional
models and `K.function` both evaluate graphs this way; neither looks inside a layer.

While `run` is in progress its values are visible to the layers it calls, through
`value_of`: Keras 2 code written in graph mode refers, inside a custom layer's `call`, to
symbolic tensors of the enclosing graph (the book's VAE loss uses the `z_mean` and
`z_log_var` tensors the encoder computed). An operation on such a tensor met during a run
(`K.square(z_mean)`, `z_log_var - 1`) computes on the value of the current forward pass
instead of recording a node; a tensor not computed yet is computed from the values known
so far, once, and its node is not run again.
"""

from .node import flatten, map_structure
from .symbolic import KerasTensor

_RUNS = []  # the graph evaluations in progress, innermost last


class _Run:
    """One evaluation in progress: its values and mode, and which nodes ran early."""

    def __init__(self, values, training, on_value):
        self.values = values
        self.training = training
        self.on_value = on_value
        self.ran_early = set()  # ids of nodes `value_of` ran before their turn


def plan(outputs, fed, known=()):
    """Nodes that compute `outputs` from the tensors in `fed`, producers first.

    Args:
        outputs: KerasTensors wanted.
        fed: KerasTensors whose values will be given (the walk stops there).
        known: ids of further tensors whose values are available (the walk stops there).

    Returns:
        The list of Nodes to run, in a valid execution order.

    Raises:
        ValueError: when an output depends on an input (InputLayer) that is not fed.
    """
    fed_ids = {id(t) for t in fed} | set(known)
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
    current = _Run(values, training, on_value)
    _RUNS.append(current)
    try:
        for node in nodes:
            if current.ran_early and id(node) in current.ran_early:
                continue
            _run_node(node, current)
    finally:
        _RUNS.pop()
    return values


def _run_node(node, current):
    values = current.values
    args = map_structure(lambda t: values[id(t)], node.inputs)
    kwargs = dict(node.call_kwargs)
    kwargs.setdefault("training", current.training)
    out = node.layer(args, **kwargs)
    for tensor, value in zip(node.output_tensors, flatten(out)):
        values[id(tensor)] = current.on_value(tensor, value) if current.on_value else value


def in_progress():
    """True while a graph evaluation runs (inside the layers a functional model calls)."""
    return bool(_RUNS)


def value_of(tensor):
    """The value of symbolic `tensor` in the innermost evaluation that can compute it.

    Tensors the evaluation has not reached yet are computed from the values it has (their
    nodes then do not run again in this evaluation).

    Returns:
        A torch tensor, or None when no evaluation is in progress.

    Raises:
        ValueError: when `tensor` cannot be computed from any evaluation's values.
    """
    if not _RUNS:
        return None
    for current in reversed(_RUNS):
        if id(tensor) in current.values:
            return current.values[id(tensor)]
    for current in reversed(_RUNS):
        try:
            nodes = plan([tensor], (), known=current.values.keys())
        except ValueError:
            continue
        for node in nodes:
            _run_node(node, current)
            current.ran_early.add(id(node))
        return current.values[id(tensor)]
    raise ValueError(
        f"{tensor!r} is used inside a layer's call, but the model being run does not "
        "compute it and cannot compute it from its inputs. Pass it to the layer as an "
        "input instead (layer([x, tensor]))"
    )


def resolve(structure):
    """`structure` with each KerasTensor replaced by its `value_of` (see there)."""
    return map_structure(lambda leaf: value_of(leaf) if isinstance(leaf, KerasTensor)
                         else leaf, structure)
