"""Dropout: inverted dropout at training time, identity at inference."""

import torch
import torch.nn.functional as F

from ..layer import Layer
from .noise_utils import seeded_generator


class Dropout(Layer):
    """Zeroes a fraction `rate` of inputs during training and scales the rest by 1/(1-rate).

    Args:
        rate: float in [0, 1), fraction of units to drop.
        noise_shape: optional shape (without the batch entry, or with None for the batch)
            whose 1-entries share one mask along that axis, e.g. (None, 1, features).
        seed: optional int for a reproducible mask sequence.

    Example:
        >>> Dropout(0.5)
    """

    supports_masking = True

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(rate, (int, float)) or not 0 <= rate < 1:
            raise ValueError(
                f"Dropout(rate={rate!r}): rate must be a float in [0, 1), received {rate!r}"
            )
        self.rate = float(rate)
        self.noise_shape = tuple(noise_shape) if noise_shape is not None else None
        self.seed = seed
        self._generator = None

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
        if self.noise_shape is None and self.seed is None:
            return F.dropout(inputs, self.rate, training=True)
        shape = inputs.shape
        if self.noise_shape is not None:
            shape = tuple(s if n is None else n for s, n in zip(inputs.shape, self.noise_shape))
        keep = 1.0 - self.rate
        mask = torch.empty(shape, device=inputs.device, dtype=inputs.dtype)
        mask.bernoulli_(keep, generator=seeded_generator(self, inputs.device))
        return inputs * mask / keep

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(rate=self.rate, noise_shape=self.noise_shape, seed=self.seed)
        return config
