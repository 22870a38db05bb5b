"""GaussianDropout: multiplicative 1-centred Gaussian noise at training time."""

import math

import torch

from ..layer import Layer
from .noise_utils import seeded_generator


class GaussianDropout(Layer):
    """Multiplies inputs by `N(1, rate / (1 - rate))` noise during training; identity at
    inference.

    Args:
        rate: float in [0, 1), the drop probability of the equivalent Dropout.
        seed: optional int for a reproducible noise sequence.

    Example:
        >>> GaussianDropout(0.2)
    """

    supports_masking = True

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate < 1:
            raise ValueError(
                f"GaussianDropout(rate={rate!r}): rate must be a float in [0, 1), "
                f"received {rate!r}"
            )
        self.rate = float(rate)
        self.seed = seed
        self._generator = None

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
        stddev = math.sqrt(self.rate / (1.0 - self.rate))
        noise = torch.randn(inputs.shape, dtype=inputs.dtype, device=inputs.device,
                            generator=seeded_generator(self, inputs.device))
        return inputs * (1.0 + stddev * noise)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(rate=self.rate, seed=self.seed)
        return config
