"""Learning-rate schedules: `step -> learning rate` with Keras 3 formulas.

A schedule is called by the optimizer with its `iterations` (number of completed updates,
0 for the first update) and returns a Python float, so a step needs no tensor work.
Formulas follow `keras/src/optimizers/schedules/learning_rate_schedule.py`.
"""

import math

from ..utils.registry import resolve


class LearningRateSchedule:
    """Base class: subclasses implement `__call__(step) -> float` and `get_config()`.

    Example:
        >>> class Halving(LearningRateSchedule):
        ...     def __init__(self, lr): self.lr = lr
        ...     def __call__(self, step): return self.lr / (step + 1)
        ...     def get_config(self): return {"lr": self.lr}
    """

    def __call__(self, step):
        raise NotImplementedError(f"{type(self).__name__} must implement __call__(step)")

    def get_config(self):
        raise NotImplementedError(f"{type(self).__name__} must implement get_config()")

    @classmethod
    def from_config(cls, config):
        """Creates the schedule from `get_config()` output."""
        return cls(**config)


def _check_decay_steps(owner, decay_steps):
    if isinstance(decay_steps, bool) or not isinstance(decay_steps, (int, float)) or (
            decay_steps <= 0):
        raise ValueError(
            f"{owner}(decay_steps={decay_steps!r}): decay_steps must be a number > 0."
        )


class _StepDecay(LearningRateSchedule):
    """Shared by ExponentialDecay and InverseTimeDecay: `decay_rate` applied per `decay_steps`.

    Args:
        initial_learning_rate: float.
        decay_steps: number > 0.
        decay_rate: float.
        staircase: if True, `step / decay_steps` is floored.
        name: name of the schedule (kept in the config); defaults to the class name.
    """

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name=None):
        _check_decay_steps(type(self).__name__, decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name if name is not None else type(self).__name__

    def _progress(self, step):
        p = step / self.decay_steps
        return math.floor(p) if self.staircase else p

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }


class ExponentialDecay(_StepDecay):
    """`initial_learning_rate * decay_rate ** (step / decay_steps)` (floored when staircase).

    Args:
        initial_learning_rate: float.
        decay_steps: number > 0.
        decay_rate: float.
        staircase: if True, `step / decay_steps` is floored.
        name: name kept in the config (defaults to the class name).

    Example:
        >>> ExponentialDecay(0.1, decay_steps=1000, decay_rate=0.96)(2000)  # 0.1 * 0.96**2
    """

    def __call__(self, step):
        return self.initial_learning_rate * self.decay_rate ** self._progress(step)


class InverseTimeDecay(_StepDecay):
    """`initial_learning_rate / (1 + decay_rate * step / decay_steps)` (floored when staircase).

    Args:
        initial_learning_rate: float.
        decay_steps: number > 0.
        decay_rate: float.
        staircase: if True, `step / decay_steps` is floored.
        name: name kept in the config (defaults to the class name).

    Example:
        >>> InverseTimeDecay(0.1, decay_steps=1, decay_rate=0.5)(2)  # 0.1 / 2
    """

    def __call__(self, step):
        return self.initial_learning_rate / (1.0 + self.decay_rate * self._progress(step))


class PiecewiseConstantDecay(LearningRateSchedule):
    """`values[0]` while `step <= boundaries[0]`, `values[i]` while `step <= boundaries[i]`, ...

    Args:
        boundaries: strictly increasing list of step numbers.
        values: list of learning rates, one more than `boundaries`.
        name: name of the schedule (kept in the config).
    """

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                "PiecewiseConstantDecay: the length of boundaries must be 1 less than the "
                f"length of values, received boundaries={boundaries} (length "
                f"{len(boundaries)}) and values={values} (length {len(values)})."
            )
        if any(b >= c for b, c in zip(boundaries, boundaries[1:])):
            raise ValueError(
                f"PiecewiseConstantDecay: boundaries must be strictly increasing, "
                f"received {boundaries}."
            )
        self.boundaries = boundaries
        self.values = values
        self.name = name

    def __call__(self, step):
        for boundary, value in zip(self.boundaries, self.values):
            if step <= boundary:
                return value
        return self.values[-1]

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """Polynomial decay from `initial_learning_rate` to `end_learning_rate` over decay_steps.

    `(initial - end) * (1 - step / decay_steps) ** power + end`, with `step` clipped to
    `decay_steps`; with `cycle=True`, `decay_steps` grows to the next multiple of itself.

    Args:
        initial_learning_rate: float.
        decay_steps: number > 0.
        end_learning_rate: float reached at `decay_steps`.
        power: exponent of the polynomial.
        cycle: whether to restart the decay after `decay_steps`.
        name: name of the schedule (kept in the config).
    """

    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001, power=1.0,
                 cycle=False, name="PolynomialDecay"):
        _check_decay_steps("PolynomialDecay", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.end_learning_rate = end_learning_rate
        self.power = power
        self.cycle = cycle
        self.name = name

    def __call__(self, step):
        decay_steps = float(self.decay_steps)
        if self.cycle:
            # Keras: at step 0 the multiplier is 1, not 0.
            multiplier = 1.0 if step == 0 else math.ceil(step / decay_steps)
            decay_steps = decay_steps * multiplier
        else:
            step = min(step, decay_steps)
        fraction = step / decay_steps
        delta = self.initial_learning_rate - self.end_learning_rate
        return delta * (1.0 - fraction) ** self.power + self.end_learning_rate

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "end_learning_rate": self.end_learning_rate,
            "power": self.power,
            "cycle": self.cycle,
            "name": self.name,
        }


class CosineDecay(LearningRateSchedule):
    """Cosine decay with optional linear warmup (Keras 3).

    Without `warmup_target`: `lr0 * ((1 - alpha) * 0.5 * (1 + cos(pi * s / decay_steps)) + alpha)`
    with `s = min(step, decay_steps)`. With it: linear warmup from `initial_learning_rate` to
    `warmup_target` over `warmup_steps`, then the cosine decay from `warmup_target`.

    Args:
        initial_learning_rate: float.
        decay_steps: number > 0.
        alpha: final learning rate as a fraction of the decay's starting value.
        name: name of the schedule (kept in the config).
        warmup_target: optional float reached at the end of the warmup.
        warmup_steps: number of warmup steps.
    """

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay",
                 warmup_target=None, warmup_steps=0):
        _check_decay_steps("CosineDecay", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.alpha = alpha
        self.name = name
        self.warmup_target = warmup_target
        self.warmup_steps = warmup_steps

    def _decay(self, step, start_lr):
        cosine = 0.5 * (1.0 + math.cos(math.pi * step / self.decay_steps))
        return start_lr * ((1 - self.alpha) * cosine + self.alpha)

    def __call__(self, step):
        if self.warmup_target is None:
            return self._decay(min(step, self.decay_steps), self.initial_learning_rate)
        step = min(step, self.decay_steps + self.warmup_steps)
        if step < self.warmup_steps:
            fraction = step / self.warmup_steps
            delta = self.warmup_target - self.initial_learning_rate
            return delta * fraction + self.initial_learning_rate
        return self._decay(step - self.warmup_steps, self.warmup_target)

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "alpha": self.alpha,
            "name": self.name,
            "warmup_target": self.warmup_target,
            "warmup_steps": self.warmup_steps,
        }


_SCHEDULES = {
    cls.__name__: cls
    for cls in (ExponentialDecay, InverseTimeDecay, PiecewiseConstantDecay, PolynomialDecay,
                CosineDecay)
}


def serialize(schedule):
    """Returns `{'class_name': ..., 'config': ...}` for a schedule."""
    return {"class_name": type(schedule).__name__, "config": schedule.get_config()}


def deserialize(config, custom_objects=None):
    """Creates a schedule from `serialize()` output (Keras 3 dicts with extra keys accepted).

    Args:
        config: dict with `class_name` and `config`.
        custom_objects: optional `{name: class}` for user schedules.

    Returns:
        A `LearningRateSchedule`.
    """
    return from_serialized(config, _SCHEDULES, "learning rate schedule", custom_objects)


def from_serialized(config, table, kind, custom_objects=None):
    """Looks up `config['class_name']` in `table` and calls the class's `from_config`.

    Shared by `schedules.deserialize` and `optimizers.deserialize`.
    """
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(
            f"Could not deserialize {kind}: expected a dict with 'class_name' and 'config', "
            f"received {config!r}"
        )
    cls = resolve(config["class_name"], table, kind, custom_objects, instantiate=False)
    return cls.from_config(dict(config.get("config") or {}))
