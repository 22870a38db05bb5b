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
    line_length = line_length or 65
    positions = positions or [0.45, 0.85, 1.0]
    if positions[-1] <= 1:
        positions = [int(line_length * p) for p in positions]
    lines = [f'Model: "{model.name}"', "_" * line_length]
    lines.append(_row(["Layer (type)", "Output Shape", "Param #"], positions))
    lines.append("=" * line_length)
    layers = model.layers
    for i, layer in enumerate(layers):
        shape = _output_shape(model, layer)
        lines.append(_row([f"{layer.name} ({type(layer).__name__})", shape,
                           layer.count_params()], positions))
        lines.append(("=" if i == len(layers) - 1 else "_") * line_length)
    trainable = sum(p.numel() for p in model.trainable_weights)
    non_trainable = sum(p.numel() for p in model.non_trainable_weights)
    lines += [f"Total params: {trainable + non_trainable:,}",
              f"Trainable params: {trainable:,}",
              f"Non-trainable params: {non_trainable:,}",
              "_" * line_length]
    for line in lines:
        print_fn(line)


def _output_shape(model, layer):
    shape = getattr(model, "layer_output_shape", lambda _: None)(layer)
    if shape is None:
        return "multiple"
    return str(tuple(shape))


def _row(fields, positions):
    line = ""
    for field, stop in zip(fields, positions):
        line = (line + str(field))[:stop]
        line += " " * (stop - len(line))
    return line
