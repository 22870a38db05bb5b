"""Adadelta (Keras 3 defaults: learning_rate 0.001, rho 0.95, epsilon 1e-7)."""

import torch

from .optimizer import Optimizer, _check_float


class Adadelta(Optimizer):
    """Adadelta: step sizes from running averages of squared gradients and squared updates.

    `Eg = rho*Eg + (1-rho)*g²; d = -g*sqrt(Edx + eps)/sqrt(Eg + eps);
    Edx = rho*Edx + (1-rho)*d²; w += lr*d`. Same form as `torch.optim.Adadelta`; written
    here to share clipping/decay/state with the other Keras optimizers.

    Args:
        learning_rate: float >= 0 or `LearningRateSchedule` (default 0.001).
        rho: decay rate, in [0, 1] (default 0.95).
        epsilon: small float >= 0 (default 1e-7).
        **kwargs: base options (`name`, `weight_decay`, `clipnorm`, `clipvalue`,
            `global_clipnorm`, legacy `lr`, `decay`).

    Example:
        >>> opt = Adadelta(learning_rate=1.0)
    """

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.rho = _check_float("Adadelta", "rho", rho, low=0.0, high=1.0)
        self.epsilon = _check_float("Adadelta", "epsilon", epsilon, low=0.0)

    def _slot_specs(self):
        return [("accumulated_grad", 0.0), ("accumulated_delta_var", 0.0)]

    def _deltas(self, grads, slots):
        """Advances both accumulators; returns the unscaled steps -d that the eager and the
        captured update share."""
        rho, eps = self.rho, self.epsilon
        grad_avgs, delta_avgs = slots["accumulated_grad"], slots["accumulated_delta_var"]
        torch._foreach_mul_(grad_avgs, rho)
        torch._foreach_addcmul_(grad_avgs, grads, grads, value=1 - rho)
        deltas = torch._foreach_add(delta_avgs, eps)
        torch._foreach_sqrt_(deltas)
        torch._foreach_mul_(deltas, grads)
        rms_grads = torch._foreach_add(grad_avgs, eps)
        torch._foreach_sqrt_(rms_grads)
        torch._foreach_div_(deltas, rms_grads)  # deltas = -d
        torch._foreach_mul_(delta_avgs, rho)
        torch._foreach_addcmul_(delta_avgs, deltas, deltas, value=1 - rho)
        return deltas

    def _update(self, params, grads, slots, lr, t):
        deltas = self._deltas(grads, slots)
        torch._foreach_add_(params, deltas, alpha=-lr)

    def _step_scalars(self, lr, t):
        return [-lr]

    def _update_captured(self, params, grads, slots, scalars):
        deltas = self._deltas(grads, slots)
        torch._foreach_add_(params, torch._foreach_mul(deltas, scalars[0]))

    def get_config(self):
        config = super().get_config()
        config.update({"rho": self.rho, "epsilon": self.epsilon})
        return config
