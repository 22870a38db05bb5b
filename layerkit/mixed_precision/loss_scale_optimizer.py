"""`LossScaleOptimizer`: Keras 3's dynamic loss scaling around another optimizer.

float16 gradients underflow; multiplying the loss by a large scale before backward keeps them
representable, and the optimizer divides the gradients by the same scale before updating.
Keras 3's schedule (`keras/src/optimizers/loss_scale_optimizer.py`): the scale starts at
`initial_scale` (2**15); a step whose gradients hold an inf or NaN is skipped and halves the
scale; after `dynamic_growth_steps` (2000) finite steps in a row the scale doubles. The check
and the unscaling run in torch's fused AMP kernel (`_amp_foreach_non_finite_check_and_unscale_`,
what `torch.amp.GradScaler` uses); scales stay powers of two, so unscaling is exact.
"""

import numpy as np
import torch

from ..optimizers.optimizer import Optimizer
from ..utils import registry


@registry.register("optimizers")
class LossScaleOptimizer(Optimizer):
    """Wraps `inner_optimizer` with dynamic loss scaling.

    Args:
        inner_optimizer: the layerkit optimizer that applies the unscaled gradients.
        initial_scale: the first loss scale (a float > 0; 2**15).
        dynamic_growth_steps: finite steps in a row after which the scale doubles (2000).
        name: optional name.

    Example:
        >>> opt = LossScaleOptimizer(SGD(0.1))
        >>> opt.scale_loss(loss).backward(); opt.step()   # skips the step on inf/NaN
    """

    def __init__(self, inner_optimizer, initial_scale=2.0**15, dynamic_growth_steps=2000,
                 name=None, **kwargs):
        if not kwargs.pop("dynamic", True):
            raise ValueError("LossScaleOptimizer(dynamic=False) is not supported; use the "
                             "inner optimizer alone for a fixed scale of 1")
        if not isinstance(inner_optimizer, Optimizer):
            raise TypeError("LossScaleOptimizer: inner_optimizer must be a layerkit "
                            f"optimizer, received {inner_optimizer!r}")
        if not float(initial_scale) > 0:
            raise ValueError("LossScaleOptimizer: initial_scale must be > 0, received "
                             f"{initial_scale!r}")
        if isinstance(dynamic_growth_steps, bool) or not isinstance(dynamic_growth_steps, int) \
                or dynamic_growth_steps < 1:
            raise ValueError("LossScaleOptimizer: dynamic_growth_steps must be an int >= 1, "
                             f"received {dynamic_growth_steps!r}")
        super().__init__(learning_rate=0.0, name=name or "loss_scale_optimizer", **kwargs)
        self.inner_optimizer = inner_optimizer
        self.initial_scale = float(initial_scale)
        self.dynamic_growth_steps = dynamic_growth_steps
        self._scale = float(initial_scale)
        self._good_steps = 0
        self._scaled_params = None

    # ----------------------------------------------------------------- the inner optimizer
    @property
    def learning_rate(self):
        return self.inner_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        if "inner_optimizer" in self.__dict__:  # the base __init__ sets 0.0 before it exists
            self.inner_optimizer.learning_rate = value

    lr = learning_rate

    @property
    def iterations(self):
        """Steps the inner optimizer applied (skipped steps do not count)."""
        return self.inner_optimizer.iterations

    @iterations.setter
    def iterations(self, value):
        if "inner_optimizer" in self.__dict__:
            self.inner_optimizer.iterations = value

    @property
    def built(self):
        return self._scaled_params is not None and self.inner_optimizer.built

    def build(self, params):
        """Builds the inner optimizer on `params` (remembered for `step`)."""
        self._scaled_params = list(params)
        self.inner_optimizer.build(self._scaled_params)

    @property
    def variables(self):
        return self.inner_optimizer.variables

    # ----------------------------------------------------------------- scaling
    @property
    def dynamic_scale(self):
        """The current loss scale (a float)."""
        return self._scale

    @property
    def step_counter(self):
        """Finite steps since the scale last changed."""
        return self._good_steps

    def scale_loss(self, loss):
        """`loss * dynamic_scale`: call backward on this."""
        return loss * self._scale

    @torch.no_grad()
    def step(self):
        """Unscales each parameter's `.grad` in place, then applies or skips the step."""
        if not self.built:
            raise RuntimeError("LossScaleOptimizer.step() was called before build(params). "
                               "Call optimizer.build(list_of_trainable_parameters) first.")
        grads = [p.grad for p in self._scaled_params if p.grad is not None]
        if self._finite_after_unscaling(grads):
            self.inner_optimizer.step()

    @torch.no_grad()
    def apply_gradients(self, grads_and_vars):
        """Unscales the gradients (new tensors) and applies them, or skips the step."""
        pairs = [(None if g is None else g.detach().clone(), v) for g, v in grads_and_vars]
        if self._finite_after_unscaling([g for g, _ in pairs if g is not None]):
            self.inner_optimizer.apply_gradients(pairs)
        return self.iterations

    def apply(self, grads, trainable_variables=None):
        """Keras 3's `apply(grads, trainable_variables)` with loss scaling."""
        if trainable_variables is None:
            if not self.built:
                raise ValueError("LossScaleOptimizer.apply(grads) without "
                                 "trainable_variables needs a built optimizer")
            trainable_variables = self._scaled_params
        return self.apply_gradients(zip(grads, trainable_variables))

    def _finite_after_unscaling(self, grads):
        """Divides `grads` in place by the scale, updates the schedule; True when finite."""
        if not grads:
            return True
        found_inf = torch.zeros(1, device=grads[0].device)
        by_device = {}
        for g in grads:  # the fused kernel takes one dtype and one device per call
            by_device.setdefault((g.dtype, g.device), []).append(g)
        for (_, device), group in by_device.items():
            flag = torch.zeros(1, device=device)
            inverse = torch.full((1,), 1.0 / self._scale, device=device)
            torch._amp_foreach_non_finite_check_and_unscale_(group, flag, inverse)
            found_inf += flag.to(found_inf.device)
        finite = not bool(found_inf.item())
        if not finite:
            self._scale, self._good_steps = self._scale * 0.5, 0
        elif self._good_steps == self.dynamic_growth_steps - 1:
            self._scale, self._good_steps = self._scale * 2.0, 0
        else:
            self._good_steps += 1
        return finite

    # ----------------------------------------------------------------- state and config
    def state_dict(self):
        return {"inner": self.inner_optimizer.state_dict(),
                "extra": {"dynamic_scale": self._scale, "step_counter": self._good_steps}}

    def load_state_dict(self, state):
        self.inner_optimizer.load_state_dict(state["inner"])
        self._scale = float(state["extra"]["dynamic_scale"])
        self._good_steps = int(state["extra"]["step_counter"])

    def state_arrays(self, param_names=None):
        """Keras 3's variable order: this wrapper's iteration, learning_rate, step_counter and
        dynamic_scale, then the inner optimizer's state (see `Optimizer.state_arrays`)."""
        if not self.built:
            return []
        own = [("iteration", np.asarray(0, dtype=np.int64)),
               ("learning_rate", np.asarray(0.0, dtype=np.float32)),
               ("step_counter", np.asarray(self._good_steps, dtype=np.int64)),
               ("dynamic_scale", np.asarray(self._scale, dtype=np.float32))]
        return [(f"{self.name}/{key}", value) for key, value in own] + \
            self.inner_optimizer.state_arrays(param_names)

    def load_state_arrays(self, arrays, where="the file"):
        """Restores what `state_arrays` returned (or Keras 3's LossScaleOptimizer saved)."""
        if len(arrays) < 4:
            raise ValueError(f"{where}: LossScaleOptimizer state needs at least 4 arrays "
                             f"(iteration, learning_rate, step_counter, dynamic_scale), "
                             f"received {len(arrays)}")
        self._good_steps = int(np.asarray(arrays[2]).reshape(()))
        self._scale = float(np.asarray(arrays[3]).reshape(()))
        self.inner_optimizer.load_state_arrays(list(arrays[4:]), where)

    def get_config(self):
        from .. import optimizers

        return {"name": self.name,
                "inner_optimizer": optimizers.serialize(self.inner_optimizer),
                "initial_scale": self.initial_scale,
                "dynamic_growth_steps": self.dynamic_growth_steps}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from .. import optimizers

        config = dict(config)
        inner = optimizers.deserialize(config.pop("inner_optimizer"),
                                       custom_objects=custom_objects)
        return cls(inner, **config)

    def __repr__(self):
        return (f"<LossScaleOptimizer scale={self._scale:g} "
                f"inner={self.inner_optimizer!r}>")

