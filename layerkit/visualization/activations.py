"""Intermediate activations: the notes' `Model(inputs=model.input, outputs=layer_outputs)`."""

import numpy as np

from ..layers import InputLayer
from ..models import Model


def channels_first(layer):
    """Whether `layer` lays its feature maps out channels first (its `data_format`)."""
    return getattr(layer, "data_format", None) == "channels_first"


def channel_count(layer):
    """The number of channels (filters) of `layer`'s symbolic output."""
    return layer.output.shape[1 if channels_first(layer) else -1]


def layer_activations(model, image, layer_names=None):
    """Outputs of the named layers (default: every conv and pooling layer) for `image`.

    Args:
        model: a built model with a symbolic input (Sequential with an input shape, or
            functional).
        image: one image (H, W, C) or a batch (N, H, W, C), as the model expects it.
        layer_names: names of layers whose outputs are 4-D feature maps.

    Returns:
        A dict {layer name: numpy array (N, h, w, channels)}, in model order; feature maps
        of channels_first layers are moved to channels_last.
    """
    image = np.asarray(image, dtype="float32")
    if image.ndim == len(model.input.shape) - 1:
        image = image[None]
    if layer_names is None:
        layer_names = [layer.name for layer in model.layers
                       if _is_feature_map(layer, model)]
    chosen = [model.get_layer(name) for name in layer_names]
    for layer in chosen:
        if len(layer.output.shape) != 4:
            raise ValueError(
                f"layer_activations: layer '{layer.name}' outputs shape {layer.output.shape}; "
                "only 4-D feature maps (batch, height, width, channels) can be shown"
            )
    outputs = Model(model.input, [layer.output for layer in chosen]).predict(image, verbose=0)
    outputs = outputs if isinstance(outputs, list) else [outputs]
    return {layer.name: (np.moveaxis(out, 1, -1) if channels_first(layer) else out)
            for layer, out in zip(chosen, outputs)}


def _is_feature_map(layer, model):
    if isinstance(layer, InputLayer):
        return False
    try:
        return len(layer.output.shape) == 4
    except AttributeError:  # a layer never called on symbolic tensors
        return False


def activation_grid(activation, images_per_row=16):
    """One image showing every channel of a feature map (the notes' display grid).

    Each channel is standardised (mean 128, std 64, clipped to [0, 255]), as in the notes;
    a constant channel shows as 128 instead of dividing by zero.

    Args:
        activation: (h, w, channels) or (1, h, w, channels).
        images_per_row: channels per row of the grid.

    Returns:
        A uint8 array (rows * h, images_per_row * w); the last row is filled with zeros
        when the channel count is not a multiple of `images_per_row`.
    """
    activation = np.asarray(activation, dtype="float32")
    if activation.ndim == 4:
        activation = activation[0]
    h, w, channels = activation.shape
    per_row = min(images_per_row, channels)
    rows = -(-channels // per_row)
    grid = np.zeros((rows * h, per_row * w), dtype="uint8")
    for index in range(channels):
        channel = activation[:, :, index].copy()
        channel -= channel.mean()
        std = channel.std()
        channel = channel / std if std > 0 else channel
        channel = np.clip(channel * 64 + 128, 0, 255).astype("uint8")
        row, col = divmod(index, per_row)
        grid[row * h:(row + 1) * h, col * w:(col + 1) * w] = channel
    return grid
