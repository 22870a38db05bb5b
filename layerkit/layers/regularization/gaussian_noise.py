"""GaussianNoise: additive zero-centred Gaussian noise at training time."""

import torch

from ..layer import Layer
from .noise_utils import seeded_generator


class GaussianNoise(Layer):
    """Adds `N(0, stddev^2)` noise during training; identity at inference.

    Args:
        stddev: float >= 0, standard deviation of the noise.
        seed: optional int for a reproducible noise sequence.

    Example:
        >>> GaussianNoise(0.1)
    """

    supports_masking = True

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(**kwargs)
        # Keras 3 also rejects stddev > 1; tf.keras 2.x accepts it, and so do we.
        if isinstance(stddev, bool) or not isinstance(stddev, (int, float)) or stddev < 0:
            raise ValueError(
                f"GaussianNoise(stddev={stddev!r}): stddev must be a float >= 0, "
                f"received {stddev!r}"
            )
        self.stddev = float(stddev)
        self.seed = seed
        self._generator = None

    def call(self, inputs, training=False):
        if not training or self.stddev == 0:
            return inputs
        noise = torch.randn(inputs.shape, dtype=inputs.dtype, device=inputs.device,
                            generator=seeded_generator(self, inputs.device))
        return inputs + self.stddev * noise

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(stddev=self.stddev, seed=self.seed)
        return config
