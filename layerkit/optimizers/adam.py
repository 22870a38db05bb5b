"""Adam with Keras's epsilon-hat form (eps added to the uncorrected sqrt(v))."""

import numpy as np
import torch

from .optimizer import Optimizer, _check_bool, _check_float, _scalar_type


class Adam(Optimizer):
    """Adam: adaptive moment estimation.

    Keras: `m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g²` (amsgrad: `v̂ = max(v̂, v)` replaces v);
    `w -= lr*sqrt(1-b2^t)/(1-b1^t) * m / (sqrt(v) + eps)`. `torch.optim.Adam` adds eps to the
    bias-corrected sqrt(v), which no constant eps can reproduce, hence a re-implementation.

    Args:
        learning_rate: float >= 0 or `LearningRateSchedule` (default 0.001).
        beta_1: decay of the first moment, in [0, 1) (default 0.9).
        beta_2: decay of the second moment, in [0, 1) (default 0.999).
        epsilon: small float >= 0 (default 1e-7).
        amsgrad: whether to use the AMSGrad variant.
        **kwargs: base options (`name`, `weight_decay`, `clipnorm`, `clipvalue`,
            `global_clipnorm`, legacy `lr`, `decay`).

    Example:
        >>> opt = Adam(learning_rate=3e-4, amsgrad=True)
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        owner = type(self).__name__
        self.beta_1 = _check_beta(owner, "beta_1", beta_1)
        self.beta_2 = _check_beta(owner, "beta_2", beta_2)
        self.epsilon = _check_float(owner, "epsilon", epsilon, low=0.0)
        self.amsgrad = _check_bool(owner, "amsgrad", amsgrad)

    keras_slot_groups = (("momentum", "velocity"), ("velocity_hat",))  # Keras 3's build order

    def _slot_specs(self):
        specs = [("momentum", 0.0), ("velocity", 0.0)]
        if self.amsgrad:
            specs.append(("velocity_hat", 0.0))
        return specs

    def _step_size(self, dtype, lr, t):
        """Keras's bias-corrected step lr * sqrt(1 - b2^t) / (1 - b1^t), in the weights'
        scalar type."""
        f = _scalar_type(dtype)
        b1, b2, step = f(self.beta_1), f(self.beta_2), f(t)
        return float(f(lr) * np.sqrt(f(1) - b2**step) / (f(1) - b1**step))

    def _moments(self, grads, slots):
        """Advances the moments; returns them with sqrt(v) + eps (v_hat under amsgrad), which
        the eager and the captured update share."""
        momentums, velocities = slots["momentum"], slots["velocity"]
        torch._foreach_lerp_(momentums, grads, 1 - self.beta_1)
        torch._foreach_mul_(velocities, self.beta_2)
        torch._foreach_addcmul_(velocities, grads, grads, value=1 - self.beta_2)
        if self.amsgrad:
            torch._foreach_maximum_(slots["velocity_hat"], velocities)
            velocities = slots["velocity_hat"]
        denominators = torch._foreach_sqrt(velocities)
        torch._foreach_add_(denominators, self.epsilon)
        return momentums, denominators

    def _update(self, params, grads, slots, lr, t):
        alpha = self._step_size(params[0].dtype, lr, t)
        momentums, denominators = self._moments(grads, slots)
        torch._foreach_addcdiv_(params, momentums, denominators, value=-alpha)

    def _step_scalars(self, lr, t):
        return [-self._step_size(self._params[0].dtype, lr, t)]

    def _update_captured(self, params, grads, slots, scalars):
        momentums, denominators = self._moments(grads, slots)
        increments = torch._foreach_mul(momentums, scalars[0])  # (-alpha * m) / d
        torch._foreach_div_(increments, denominators)
        torch._foreach_add_(params, increments)

    def get_config(self):
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon,
                       "amsgrad": self.amsgrad})
        return config


def _check_beta(owner, name, value):
    """Betas live in [0, 1): beta = 1 would divide by zero in the bias correction."""
    value = _check_float(owner, name, value, low=0.0, high=1.0)
    if value == 1.0:
        raise ValueError(f"{owner}({name}=1.0): {name} must be in [0, 1), received 1.0.")
    return value
