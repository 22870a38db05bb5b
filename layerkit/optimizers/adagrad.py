"""Adagrad with Keras 3's accumulator start (0.1) and epsilon inside the square root."""

import torch

from .optimizer import Optimizer, _check_float


class Adagrad(Optimizer):
    """Per-parameter learning rates scaled by the accumulated squared gradients.

    Keras 3: `a += g²; w -= lr * g / sqrt(a + eps)`, with `a` starting at
    `initial_accumulator_value`. `torch.optim.Adagrad` adds eps outside the square root,
    hence a re-implementation (Keras parity).

    Args:
        learning_rate: float >= 0 or `LearningRateSchedule` (default 0.001).
        initial_accumulator_value: float >= 0 the accumulators start at (default 0.1).
        epsilon: small float >= 0 (default 1e-7).
        **kwargs: base options (`name`, `weight_decay`, `clipnorm`, `clipvalue`,
            `global_clipnorm`, legacy `lr`, `decay`).

    Example:
        >>> opt = Adagrad(learning_rate=0.01)
    """

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7,
                 **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.initial_accumulator_value = _check_float(
            "Adagrad", "initial_accumulator_value", initial_accumulator_value, low=0.0)
        self.epsilon = _check_float("Adagrad", "epsilon", epsilon, low=0.0)

    def _slot_specs(self):
        return [("accumulator", self.initial_accumulator_value)]

    def _denominators(self, grads, slots):
        """Accumulates g^2; returns sqrt(accumulator + eps) for the eager and captured
        update."""
        accumulators = slots["accumulator"]
        torch._foreach_addcmul_(accumulators, grads, grads)
        denominators = torch._foreach_add(accumulators, self.epsilon)
        torch._foreach_sqrt_(denominators)
        return denominators

    def _update(self, params, grads, slots, lr, t):
        denominators = self._denominators(grads, slots)
        torch._foreach_addcdiv_(params, grads, denominators, value=-lr)

    def _update_captured(self, params, grads, slots, scalars):
        denominators = self._denominators(grads, slots)
        increments = torch._foreach_mul(grads, scalars[0])  # (lr * g) / d, as addcdiv
        torch._foreach_div_(increments, denominators)
        torch._foreach_sub_(params, increments)

    def get_config(self):
        config = super().get_config()
        config.update({"initial_accumulator_value": self.initial_accumulator_value,
                       "epsilon": self.epsilon})
        return config
