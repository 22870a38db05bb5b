"""`plot_model` and `model_to_dot`: tf.keras's model diagrams, with or without graphviz.

Who owns what: this module turns a model into Keras's DOT graph (one record node per
layer labelled `name: Class` with input/output shapes, edges along the model's nodes,
nested models as dashed clusters with `expand_nested`). `dot_graph.DotGraph` keeps the
graph and renders it — with graphviz when installed, else with layerkit's own layered
layout — and, when pydot and graphviz are both installed, `model_to_dot` returns the
same graph as a `pydot.Dot`, as tf.keras does.
"""

import os
import re

from . import dot_graph
from .dot_graph import DotEdge, DotGraph, DotNode


def model_to_dot(model, show_shapes=False, show_dtype=False, show_layer_names=True,
                 rankdir="TB", expand_nested=False, dpi=96, subgraph=False,
                 layer_range=None, show_layer_activations=False, show_trainable=False):
    """The model's graph in DOT form, as tf.keras 2.x builds it.

    Args:
        model: a built layerkit model (Sequential or functional).
        show_shapes: add each layer's input and output shapes.
        show_dtype: add each layer's dtype.
        show_layer_names: start each label with the layer's name.
        rankdir: 'TB' (top to bottom), 'LR', 'BT' or 'RL'.
        expand_nested: draw nested models as clusters of their own layers.
        dpi: resolution of raster images.
        subgraph: build a cluster (used for nested models).
        layer_range: `[first_name, last_name]` (regular expressions) of the layers to draw.
        show_layer_activations: add the activation of layers that have one.
        show_trainable: add 'T' / 'NT' for trainable / frozen layers.

    Returns:
        a `pydot.Dot` when pydot and graphviz are installed, else a layerkit `DotGraph`
        with the same interface (`create(prog=..., format=...)`, `write_png`, `to_string`).

    Raises:
        ValueError: for an unbuilt model or a `layer_range` that names no layer.

    Example:
        >>> SVG(model_to_dot(network, show_shapes=True).create(prog='dot', format='svg'))
    """
    _check_built(model)
    options = dict(show_shapes=show_shapes, show_dtype=show_dtype,
                   show_layer_names=show_layer_names, show_trainable=show_trainable,
                   show_layer_activations=show_layer_activations, rankdir=rankdir,
                   expand_nested=expand_nested)
    dot = _build(model, options, subgraph, layer_range)
    if not subgraph:
        dot.set("dpi", dpi)
    if not subgraph and _pydot_available():
        return dot.to_pydot()
    return dot


def plot_model(model, to_file="model.png", show_shapes=False, show_dtype=False,
               show_layer_names=True, rankdir="TB", expand_nested=False, dpi=96,
               layer_range=None, show_layer_activations=False, show_trainable=False):
    """Writes the model's diagram to `to_file`; the format follows the file's extension.

    Without graphviz, layerkit draws the diagram itself (PNG/PDF/JPEG with matplotlib,
    SVG by hand). Arguments as in `model_to_dot`.

    Returns:
        an `IPython.display.Image` of the file in a notebook (not for PDF/SVG), else None.

    Example:
        >>> plot_model(network, show_shapes=True, to_file='network.png')
    """
    dot = model_to_dot(model, show_shapes=show_shapes, show_dtype=show_dtype,
                       show_layer_names=show_layer_names, rankdir=rankdir,
                       expand_nested=expand_nested, dpi=dpi, layer_range=layer_range,
                       show_layer_activations=show_layer_activations,
                       show_trainable=show_trainable)
    to_file = os.fspath(to_file)
    extension = os.path.splitext(to_file)[1][1:].lower() or "png"
    dot.write(to_file, format=extension)
    if extension in ("pdf", "svg"):
        return None
    try:
        from IPython import display
    except ImportError:
        return None
    return display.Image(filename=to_file)


def _pydot_available():
    try:
        import pydot  # noqa: F401
    except ImportError:
        return False
    return dot_graph.graphviz_program("dot") is not None


def _check_built(model):
    if not getattr(model, "built", False):
        raise ValueError(
            f"Model '{model.name}' has not yet been built, so it cannot be plotted. Build it "
            "first by calling `build()`, by calling `fit()` with some data, or by giving the "
            "first layer an `input_shape`"
        )


# --------------------------------------------------------------------------- the graph
def _build(model, options, subgraph, layer_range):
    if subgraph:
        dot = DotGraph(model.name, cluster=True, style="dashed", label=model.name,
                       labeljust="l")
    else:
        dot = DotGraph("G", rankdir=options["rankdir"], concentrate=True)
        dot.set_node_defaults(shape="record")
    layers, nodes = _graph_of(model)
    lo, hi = _layer_bounds(layers, layer_range)
    drawn = layers[lo:hi + 1]
    first, last = {}, {}  # a nested model's first / last node name in its cluster
    for layer in drawn:
        if options["expand_nested"] and _is_graph_model(layer):
            cluster = _build(layer, options, True, None)
            first[id(layer)] = cluster.get_nodes()[0].get_name()
            last[id(layer)] = cluster.get_nodes()[-1].get_name()
            dot.add_subgraph(cluster)
        else:
            dot.add_node(DotNode(str(id(layer)), label=_label(layer, nodes, options)))
    drawn_ids = {id(layer) for layer in drawn}
    for layer in drawn:
        for node in nodes.get(id(layer), []):
            for tensor in node.input_tensors:
                source = tensor.node.layer
                if id(source) not in drawn_ids:
                    continue
                src = last.get(id(source), str(id(source)))
                dst = first.get(id(layer), str(id(layer)))
                if not dot.get_edge(src, dst):
                    dot.add_edge(DotEdge(src, dst))
    return dot


def _is_graph_model(layer):
    return hasattr(layer, "layers") and hasattr(layer, "inputs") \
        and getattr(layer, "built", False)


def _graph_of(model):
    """The layers as tf.keras draws them (InputLayers first) and each one's nodes here."""
    stop = {id(t) for t in model.inputs}
    nodes, stack = {}, list(model.outputs)
    seen = set()
    while stack:
        tensor = stack.pop()
        node = tensor.node
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        nodes.setdefault(id(node.layer), []).append(node)
        if id(tensor) not in stop:
            stack.extend(node.input_tensors)
    layers = list(model.layers)
    listed = {id(layer) for layer in layers}
    inputs = [t.node.layer for t in model.inputs if id(t.node.layer) not in listed]
    for layer_nodes in nodes.values():
        layer_nodes.sort(key=lambda n: n.index)
    return inputs + layers, nodes


def _layer_bounds(layers, layer_range):
    """Indices of the first and last layer named by `layer_range` (tf.keras's rule)."""
    if layer_range is None:
        return 0, len(layers) - 1
    if len(layer_range) != 2 or not all(isinstance(n, str) for n in layer_range):
        raise ValueError(
            f"layer_range must be two layer names (regular expressions), e.g. "
            f"['dense', 'dense_2'], received {layer_range!r}"
        )
    found = [[i for i, layer in enumerate(layers) if re.match(pattern, layer.name)]
             for pattern in layer_range]
    if not found[0] or not found[1]:
        raise ValueError(
            f"layer_range {layer_range!r} does not match the layer names in the model: "
            f"{[layer.name for layer in layers]}"
        )
    lo, hi = min(found[0]), max(found[1])
    return (hi, lo) if lo > hi else (lo, hi)


def _label(layer, nodes, options):
    """A record label as tf.keras writes it: `name: Class`, then shapes, in DOT syntax."""
    name, class_name = layer.name, type(layer).__name__
    inner = getattr(layer, "layer", None)
    if inner is not None and hasattr(inner, "name"):  # Bidirectional(LSTM), TimeDistributed
        name, class_name = f"{name}({inner.name})", f"{class_name}({type(inner).__name__})"
    label = f"{name}: {class_name}" if options["show_layer_names"] else class_name
    activation = getattr(layer, "activation", None)
    if options["show_layer_activations"] and activation is not None:
        label = "{%s|%s}" % (label, getattr(activation, "__name__", str(activation)))
    if options["show_dtype"]:
        label = "%s|%s" % (label, layer.dtype or "?")
    if options["show_shapes"]:
        inputs, outputs = _shapes(layer, nodes.get(id(layer)))
        label = "%s\n|{input:|output:}|{{%s}|{%s}}" % (label, inputs, outputs)
    if options["show_trainable"]:
        label = "{%s|%s}" % (label, "T" if layer.trainable else "NT")
    return label


def _shapes(layer, layer_nodes):
    """tf.keras's `input_shape` / `output_shape` strings ('multiple' for a shared layer)."""
    if not layer_nodes:
        return "?", "?"
    if len(layer_nodes) > 1 and len({tuple(t.shape for t in n.output_tensors)
                                     for n in layer_nodes}) > 1:
        return "multiple", "multiple"
    node = layer_nodes[0]
    if not node.input_tensors:  # an InputLayer: tf.keras 2.x shows its shape as a list
        shape = str([tuple(node.output_tensors[0].shape)])
        return shape, shape
    return _format(node.input_tensors), _format(node.output_tensors)


def _format(tensors):
    shapes = [tuple(t.shape) for t in tensors]
    return str(shapes[0] if len(shapes) == 1 else shapes)
