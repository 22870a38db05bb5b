"""RMSprop with Keras 3's epsilon inside the square root."""

import torch

from .optimizer import Optimizer, _check_bool, _check_float


class RMSprop(Optimizer):
    """Divides the gradient by a running root mean square of recent gradients.

    Keras 3: `v = rho*v + (1-rho)*g²`; centered: `a = rho*a + (1-rho)*g`, `d = v - a² + eps`,
    else `d = v + eps`; `inc = lr*g/sqrt(d)`; with momentum `m = momentum*m + inc; w -= m`,
    else `w -= inc`. `torch.optim.RMSprop` adds eps outside the square root (and defaults to
    alpha=0.99, eps=1e-8), hence a re-implementation (Keras parity).

    Args:
        learning_rate: float >= 0 or `LearningRateSchedule` (default 0.001).
        rho: discounting factor for the gradient history, in [0, 1] (default 0.9).
        momentum: float in [0, 1] (default 0.0).
        epsilon: small float >= 0 added inside the square root (default 1e-7).
        centered: if True, normalise by the estimated variance of the gradient.
        **kwargs: base options (`name`, `weight_decay`, `clipnorm`, `clipvalue`,
            `global_clipnorm`, legacy `lr`, `decay`).

    Example:
        >>> opt = RMSprop(learning_rate=1e-4)
    """

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7,
                 centered=False, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.rho = _check_float("RMSprop", "rho", rho, low=0.0, high=1.0)
        self.momentum = _check_float("RMSprop", "momentum", momentum, low=0.0, high=1.0)
        self.epsilon = _check_float("RMSprop", "epsilon", epsilon, low=0.0)
        self.centered = _check_bool("RMSprop", "centered", centered)

    # Keras 3 builds every velocity, then every momentum, then every average gradient
    keras_slot_groups = (("velocity",), ("momentum",), ("average_gradient",))

    def _slot_specs(self):
        specs = [("velocity", 0.0)]
        if self.momentum > 0:
            specs.append(("momentum", 0.0))
        if self.centered:
            specs.append(("average_gradient", 0.0))
        return specs

    def _denominators(self, grads, slots):
        """Advances the velocities (and averages when centered); returns sqrt(v + eps [- a^2]),
        the divisor both the eager and the captured update use."""
        rho = self.rho
        velocities = slots["velocity"]
        torch._foreach_mul_(velocities, rho)
        torch._foreach_addcmul_(velocities, grads, grads, value=1 - rho)
        denominators = torch._foreach_add(velocities, self.epsilon)
        if self.centered:
            averages = slots["average_gradient"]
            torch._foreach_mul_(averages, rho)
            torch._foreach_add_(averages, grads, alpha=1 - rho)
            torch._foreach_addcmul_(denominators, averages, averages, value=-1)
        torch._foreach_sqrt_(denominators)
        return denominators

    def _update(self, params, grads, slots, lr, t):
        denominators = self._denominators(grads, slots)
        if self.momentum > 0:
            momentums = slots["momentum"]
            torch._foreach_mul_(momentums, self.momentum)
            torch._foreach_addcdiv_(momentums, grads, denominators, value=lr)
            torch._foreach_sub_(params, momentums)
        else:
            torch._foreach_addcdiv_(params, grads, denominators, value=-lr)

    def _update_captured(self, params, grads, slots, scalars):
        denominators = self._denominators(grads, slots)
        increments = torch._foreach_mul(grads, scalars[0])  # (lr * g) / d, as addcdiv
        torch._foreach_div_(increments, denominators)
        if self.momentum > 0:
            momentums = slots["momentum"]
            torch._foreach_mul_(momentums, self.momentum)
            torch._foreach_add_(momentums, increments)
            torch._foreach_sub_(params, momentums)
        else:
            torch._foreach_sub_(params, increments)

    def get_config(self):
        config = super().get_config()
        config.update({"rho": self.rho, "momentum": self.momentum, "epsilon": self.epsilon,
                       "centered": self.centered})
        return config
