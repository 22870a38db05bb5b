"""`model.summary()` in the tf.keras 2.x layout.

```
Model: "sequential"
_________________________________________________________________
Layer (type)                 Output Shape              Param #
=================================================================
dense (Dense)                (None, 16)                160016
...
```
"""


def print_summary(model, line_length=None, positions=None, print_fn=None):
    """Prints (or passes to `print_fn` line by line) the summary table of `model`.

    Raises:
        ValueError: if the model is not built, with the tf.keras advice.
    """
    if not model.built:
        raise ValueError(
            "This model has not yet been built. Build the model first by calling `build()` "
            "or calling `fit()` with some data, or specify an `input_shape` argument in the "
            "first layer(s) for automatic build."
        )
    print_fn = print_fn or print
    sequential_like = _is_sequential_like(model)
    line_length = line_length or (65 if sequential_like else 98)
    positions = positions or ([0.45, 0.85, 1.0] if sequential_like else [0.33, 0.55, 0.67, 1.0])
    if positions[-1] <= 1:
        positions = [int(line_length * p) for p in positions]
    header = ["Layer (type)", "Output Shape", "Param #"]
    if not sequential_like:
        header.append("Connected to")
    lines = [f'Model: "{model.name}"', "_" * line_length, _row(header, positions),
             "=" * line_length]
    layers = model.layers
    for i, layer in enumerate(layers):
        fields = [f"{layer.name} ({type(layer).__name__})", _output_shape(model, layer),
                  layer.count_params()]
        if sequential_like:
            lines.append(_row(fields, positions))
        else:
            connections = _connections(model, layer) or [""]
            lines.append(_row(fields + [connections[0]], positions))
            lines += [_row(["", "", "", c], positions) for c in connections[1:]]
        lines.append(("=" if i == len(layers) - 1 else "_") * line_length)
    trainable = sum(p.numel() for p in model.trainable_weights)
    non_trainable = sum(p.numel() for p in model.non_trainable_weights)
    lines += [f"Total params: {trainable + non_trainable:,}",
              f"Trainable params: {trainable:,}",
              f"Non-trainable params: {non_trainable:,}",
              "_" * line_length]
    for line in lines:
        print_fn(line)


def _is_sequential_like(model):
    """tf.keras's rule: a chain of single-input nodes, one input, one output, no sharing."""
    nodes = getattr(model, "nodes", None)
    if nodes is None:
        return True
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        return False
    previous = model.inputs[0]
    for node in nodes:
        if len(node.input_tensors) != 1 or node.input_tensors[0] is not previous \
                or len(node.output_tensors) != 1:
            return False
        previous = node.output_tensors[0]
    return len({id(n.layer) for n in nodes}) == len(nodes)


def _connections(model, layer):
    """`name[node][tensor]` for each tensor feeding `layer` inside `model`."""
    model_nodes = {id(n) for n in getattr(model, "nodes", [])}
    found = []
    for node in layer.inbound_nodes:
        if id(node) not in model_nodes:
            continue
        for tensor in node.input_tensors:
            source, index = tensor.history
            found.append(f"{source.layer.name}[{source.index}][{index}]")
    return found


def _output_shape(model, layer):
    shape = getattr(model, "layer_output_shape", lambda _: None)(layer)
    if shape is None:
        return "multiple"
    if isinstance(shape, list):
        return str([tuple(s) for s in shape])
    if type(layer).__name__ == "InputLayer":
        return str([tuple(shape)])  # tf.keras 2.x shows an InputLayer's shape as a list
    return str(tuple(shape))


def _row(fields, positions):
    line = ""
    for i, (field, stop) in enumerate(zip(fields, positions)):
        if i > 0:
            line = line[:-1] + " "  # tf.keras keeps one space between columns
        line = (line + str(field))[:stop]
        line += " " * (stop - len(line))
    return line
