"""Filter patterns: the input each filter responds to most, by normalised gradient ascent.

The notes' listing (Deep Learning with Python, 5.4.2) as a function:
`loss = mean(layer_output[..., i])`, gradients normalised by their RMS, 40 steps of
gradient ascent from a grey image with noise.
"""

import numpy as np

from .. import backend as K
from .activations import channel_count, channels_first


def deprocess_image(x):
    """Maps any float image to uint8 for display (the notes' `deprocess_image`).

    Centres on 0.5 with a standard deviation of 0.1, clips to [0, 1], scales to 255.
    """
    x = np.array(x, dtype="float64")
    x -= x.mean()
    x /= (x.std() + 1e-5)
    x = np.clip(x * 0.1 + 0.5, 0, 1)
    return np.clip(x * 255, 0, 255).astype("uint8")


def _iterate(model, layer_name, filter_index):
    layer = model.get_layer(layer_name)
    output = layer.output
    if len(output.shape) != 4:
        raise ValueError(f"filter_pattern: layer '{layer_name}' outputs {output.shape}; "
                         "filters exist for 4-D conv outputs")
    channels = channel_count(layer)
    if not 0 <= filter_index < channels:
        raise ValueError(f"filter_pattern: layer '{layer_name}' has {channels} filters, "
                         f"received filter_index={filter_index}")
    selected = output[:, filter_index] if channels_first(layer) \
        else output[:, :, :, filter_index]
    loss = K.mean(selected)
    grads = K.gradients(loss, model.input)[0]
    grads /= (K.sqrt(K.mean(K.square(grads))) + 1e-5)
    return K.function([model.input], [loss, grads])


def filter_pattern(model, layer_name, filter_index, size=150, steps=40, step=1.0,
                   value_range=(0.0, 255.0), seed=None, return_losses=False):
    """The input image that maximises the mean activation of one filter.

    Args:
        model: a model whose input is an image batch (its own size is used when fixed).
        layer_name: a conv layer's name.
        filter_index: which channel of its output.
        size: height and width when the model's input size is not fixed.
        steps, step: gradient-ascent steps and step size (in units of 1/255 of
            `value_range`, so `step=1` is the notes' step on 0-255 images).
        value_range: the range of the model's inputs: the start is grey noise in the
            middle of it, as the notes' `random((1, size, size, 3)) * 20 + 128`.
        seed: seed of the starting noise.
        return_losses: also return the loss at each step.

    Returns:
        The pattern as a uint8 image (h, w, channels) for display (`deprocess_image`), and
        the list of losses when `return_losses`.
    """
    shape = list(model.input.shape)
    first = channels_first(model.get_layer(layer_name))
    spatial = (2, 3) if first else (1, 2)
    shape[0] = 1
    for axis in spatial:
        shape[axis] = shape[axis] or size
    low, high = value_range
    scale = (high - low) / 255.0
    rng = np.random.RandomState(seed)
    image = low + (high - low) * 0.5 + rng.random_sample(shape) * 20 * scale
    iterate = _iterate(model, layer_name, filter_index)
    losses = []
    for _ in range(steps):
        loss_value, grads_value = iterate([image])
        losses.append(float(loss_value))
        image += grads_value * step * scale
    pattern = image[0]
    if first:
        pattern = np.moveaxis(pattern, 0, -1)
    pattern = deprocess_image(pattern)
    return (pattern, losses) if return_losses else pattern


def filter_patterns(model, layer_name, filter_indices=None, size=64, steps=40, step=1.0,
                    value_range=(0.0, 255.0), seed=0):
    """Patterns of several filters of one layer (default: up to the first 64).

    Returns:
        A list of uint8 images, one per filter index.
    """
    if filter_indices is None:
        filter_indices = range(min(channel_count(model.get_layer(layer_name)), 64))
    return [filter_pattern(model, layer_name, i, size=size, steps=steps, step=step,
                           value_range=value_range, seed=seed) for i in filter_indices]
