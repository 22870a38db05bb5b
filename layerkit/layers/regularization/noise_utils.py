"""Shared helper of the dropout, noise and RNN layers: a per-layer seeded torch.Generator."""

import torch


def seeded_generator(layer, device):
    """The layer's own generator, seeded once with `layer.seed` (None when unseeded).

    A seeded layer draws a reproducible sequence of noise tensors, independent of the
    global torch RNG, as Keras 3's SeedGenerator does.

    Args:
        layer: a layer with `seed` (int or None) and `_generator` attributes.
        device: the device of the noise tensors.

    Returns:
        A `torch.Generator` on `device`, or None to use the global RNG.
    """
    if layer.seed is None:
        return None
    generator = layer.seed_generator
    if generator is None or generator.device != torch.device(device):
        generator = torch.Generator(device=device)
        generator.manual_seed(layer.seed)
        layer.seed_generator = generator
    return generator
