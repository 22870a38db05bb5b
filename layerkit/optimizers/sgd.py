"""SGD with Keras's momentum-in-velocity form (`v = m*v - lr*g; w += v`)."""

import torch

from .optimizer import Optimizer, _check_bool, _check_float


class SGD(Optimizer):
    """Gradient descent with optional (Nesterov) momentum.

    Keras keeps the learning rate inside the velocity: `v = momentum * v - lr * g`, then
    `w += v` (Nesterov: `w += momentum * v - lr * g`). This equals `torch.optim.SGD` only
    while the learning rate is constant, hence a re-implementation (Keras parity).

    Args:
        learning_rate: float >= 0 or `LearningRateSchedule` (default 0.01).
        momentum: float in [0, 1] (default 0.0).
        nesterov: whether to use Nesterov momentum.
        **kwargs: base options (`name`, `weight_decay`, `clipnorm`, `clipvalue`,
            `global_clipnorm`, legacy `lr`, `decay`).

    Example:
        >>> opt = SGD(learning_rate=0.1, momentum=0.9, nesterov=True)
    """

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.momentum = _check_float("SGD", "momentum", momentum, low=0.0, high=1.0)
        self.nesterov = _check_bool("SGD", "nesterov", nesterov)

    def _slot_specs(self):
        return [("momentum", 0.0)] if self.momentum != 0 else []

    def _update(self, params, grads, slots, lr, t):
        if self.momentum == 0:
            torch._foreach_add_(params, grads, alpha=-lr)
            return
        velocities = slots["momentum"]
        torch._foreach_mul_(velocities, self.momentum)
        torch._foreach_add_(velocities, grads, alpha=-lr)
        if self.nesterov:
            torch._foreach_add_(params, grads, alpha=-lr)
            torch._foreach_add_(params, velocities, alpha=self.momentum)
        else:
            torch._foreach_add_(params, velocities)

    def _step_scalars(self, lr, t):
        return [-lr]

    def _update_captured(self, params, grads, slots, scalars):
        steps = torch._foreach_mul(grads, scalars[0])  # -lr * g
        if self.momentum == 0:
            torch._foreach_add_(params, steps)
            return
        velocities = slots["momentum"]
        torch._foreach_mul_(velocities, self.momentum)
        torch._foreach_add_(velocities, steps)
        if self.nesterov:
            torch._foreach_add_(params, steps)
            torch._foreach_add_(params, torch._foreach_mul(velocities, self.momentum))
        else:
            torch._foreach_add_(params, velocities)

    def get_config(self):
        config = super().get_config()
        config.update({"momentum": self.momentum, "nesterov": self.nesterov})
        return config
