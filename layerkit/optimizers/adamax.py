"""Adamax: Adam with the infinity norm (Keras form: eps added outside the max)."""

import torch

from .adam import _check_beta
from .optimizer import Optimizer, _check_float, _scalar_type


class Adamax(Optimizer):
    """Adamax, the infinity-norm variant of Adam.

    Keras: `m = b1*m + (1-b1)*g; u = max(b2*u, |g|); w -= lr/(1-b1^t) * m/(u + eps)`.
    `torch.optim.Adamax` puts eps inside the max, hence a re-implementation (Keras parity).

    Args:
        learning_rate: float >= 0 or `LearningRateSchedule` (default 0.001).
        beta_1: decay of the first moment, in [0, 1) (default 0.9).
        beta_2: decay of the infinity norm, in [0, 1) (default 0.999).
        epsilon: small float >= 0 (default 1e-7).
        **kwargs: base options (`name`, `weight_decay`, `clipnorm`, `clipvalue`,
            `global_clipnorm`, legacy `lr`, `decay`).

    Example:
        >>> opt = Adamax(learning_rate=0.002)
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_1 = _check_beta("Adamax", "beta_1", beta_1)
        self.beta_2 = _check_beta("Adamax", "beta_2", beta_2)
        self.epsilon = _check_float("Adamax", "epsilon", epsilon, low=0.0)

    def _slot_specs(self):
        return [("momentum", 0.0), ("norm", 0.0)]

    def _step(self, dtype, lr, t):
        """-lr / (1 - beta_1^t), the correction in the parameters' precision, as Keras."""
        f = _scalar_type(dtype)
        return -lr / float(f(1) - f(self.beta_1) ** f(t))

    def _moments(self, grads, slots):
        """Advances the momentum and the infinity norm; returns the momentums and
        norm + eps for the eager and captured update."""
        momentums, norms = slots["momentum"], slots["norm"]
        torch._foreach_lerp_(momentums, grads, 1 - self.beta_1)
        torch._foreach_mul_(norms, self.beta_2)
        torch._foreach_maximum_(norms, torch._foreach_abs(grads))
        denominators = torch._foreach_add(norms, self.epsilon)
        return momentums, denominators

    def _update(self, params, grads, slots, lr, t):
        momentums, denominators = self._moments(grads, slots)
        torch._foreach_addcdiv_(params, momentums, denominators,
                                value=self._step(params[0].dtype, lr, t))

    def _step_scalars(self, lr, t):
        return [self._step(self._params[0].dtype, lr, t)]

    def _update_captured(self, params, grads, slots, scalars):
        momentums, denominators = self._moments(grads, slots)
        increments = torch._foreach_mul(momentums, scalars[0])  # (-lr/c * m) / d
        torch._foreach_div_(increments, denominators)
        torch._foreach_add_(params, increments)

    def get_config(self):
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon})
        return config
