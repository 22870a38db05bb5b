"""Nadam with Keras 3's momentum schedule `u_t = b1 * (1 - 0.5 * 0.96**t)`."""

import torch

from .adam import _check_beta
from .optimizer import Optimizer, _check_float, _scalar_type


class Nadam(Optimizer):
    """Adam with Nesterov momentum (Keras 3 formulation).

    `u_t = b1*(1 - 0.5*0.96^t)`, `P_t = P_{t-1}*u_t` (P_0 = 1); `m, v` as in Adam;
    `m̂ = u_{t+1}*m/(1 - P_t*u_{t+1}) + (1-u_t)*g/(1 - P_t)`; `v̂ = v/(1 - b2^t)`;
    `w -= lr * m̂/(sqrt(v̂) + eps)`. Keras 3 uses `0.96^t`; tf.keras 2.x and `torch.optim.NAdam`
    use `0.96^(0.004 t)`, hence a re-implementation (Keras 3 parity).

    Args:
        learning_rate: float >= 0 or `LearningRateSchedule` (default 0.001).
        beta_1: decay of the first moment, in [0, 1) (default 0.9).
        beta_2: decay of the second moment, in [0, 1) (default 0.999).
        epsilon: small float >= 0 (default 1e-7).
        **kwargs: base options (`name`, `weight_decay`, `clipnorm`, `clipvalue`,
            `global_clipnorm`, legacy `lr`, `decay`).

    Example:
        >>> opt = Nadam(learning_rate=0.002)
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_1 = _check_beta("Nadam", "beta_1", beta_1)
        self.beta_2 = _check_beta("Nadam", "beta_2", beta_2)
        self.epsilon = _check_float("Nadam", "epsilon", epsilon, low=0.0)
        self._u_product = 1.0

    def _slot_specs(self):
        return [("momentum", 0.0), ("velocity", 0.0)]

    def _extra_state(self):
        return {"u_product": self._u_product}

    def _load_extra_state(self, state):
        self._u_product = float(state.get("u_product", 1.0))

    def _coefficients(self, dtype, t):
        """Step `t`'s momentum product and its three coefficients (of the momentum, of the
        gradient, the velocity's correction), in the parameters' precision and in Keras's
        order (its torch backend), as Python floats."""
        f = _scalar_type(dtype)
        b1, b2, decay, one = f(self.beta_1), f(self.beta_2), f(0.96), f(1)
        u_t = b1 * (one - f(0.5) * decay ** f(t))
        u_next = b1 * (one - f(0.5) * decay ** f(t + 1))
        u_product = f(self._u_product) * u_t
        return float(u_product), [float(u_next / (one - u_product * u_next)),
                                  float((one - u_t) / (one - u_product)),
                                  float(one - b2 ** f(t))]

    def _moments(self, grads, slots):
        momentums, velocities = slots["momentum"], slots["velocity"]
        torch._foreach_lerp_(momentums, grads, 1 - self.beta_1)
        torch._foreach_mul_(velocities, self.beta_2)
        torch._foreach_addcmul_(velocities, grads, grads, value=1 - self.beta_2)
        return momentums, velocities

    def _update(self, params, grads, slots, lr, t):
        self._u_product, (m_coef, g_coef, v_correction) = self._coefficients(
            params[0].dtype, t)
        momentums, velocities = self._moments(grads, slots)
        m_hats = torch._foreach_mul(momentums, m_coef)
        torch._foreach_add_(m_hats, grads, alpha=g_coef)
        denominators = torch._foreach_div(velocities, v_correction)
        torch._foreach_sqrt_(denominators)
        torch._foreach_add_(denominators, self.epsilon)
        torch._foreach_addcdiv_(params, m_hats, denominators, value=-lr)

    def _step_scalars(self, lr, t):
        # the momentum product advances when the captured step is counted
        # (`finish_captured_step`), not before the graph ran
        self._next_u_product, coefficients = self._coefficients(self._params[0].dtype, t)
        return coefficients + [-lr]

    def finish_captured_step(self):
        super().finish_captured_step()
        self._u_product = self._next_u_product

    def _update_captured(self, params, grads, slots, scalars):
        momentums, velocities = self._moments(grads, slots)
        m_hats = torch._foreach_mul(momentums, scalars[0])
        torch._foreach_add_(m_hats, torch._foreach_mul(grads, scalars[1]))
        denominators = torch._foreach_div(velocities, scalars[2])
        torch._foreach_sqrt_(denominators)
        torch._foreach_add_(denominators, self.epsilon)
        increments = torch._foreach_mul(m_hats, scalars[3])  # (-lr * m̂) / d
        torch._foreach_div_(increments, denominators)
        torch._foreach_add_(params, increments)

    def get_config(self):
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon})
        return config
