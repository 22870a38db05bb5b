"""The Optimizer contract: hyper-parameters, slot state, clipping, weight decay, one step.

Who owns what:
- `Optimizer` (this file) owns the learning rate (float or schedule, tf.keras `lr=`/`decay=`),
  the iteration counter, slot tensors, gradient clipping, decoupled weight decay, the
  state_dict and the config.
- Each subclass owns only its slot list (`_slot_specs`), the order Keras 3 builds the slots
  in (`keras_slot_groups`) and its multi-tensor math (`_update`).
- Saving asks for the state through `state_arrays()` / `load_state_arrays()` (and Keras 3's
  `save_own_variables(store)` / `load_own_variables(store)` over them), in Keras 3's
  variable order, so `.keras` / `.h5` files hold exactly what Keras writes.

Numerics follow Keras 3 on the torch backend (`keras/src/backend/torch/optimizers/*.py`):
per step, gradients that are None are dropped, the rest are clipped, weights are decayed
(`w *= 1 - weight_decay * lr`), then the update runs and `iterations` grows by one.
"""

import math
import numbers
import warnings

import numpy as np
import torch

from .. import config
from . import schedules
from .hyperparameter import HyperParameter

# Keras 3 constructor arguments layerkit accepts only at their "off" values, so that configs
# written by Keras 3 (and tf-keras >= 2.11) deserialize. Any other value is refused.
_OFF_ONLY = {"use_ema": False, "loss_scale_factor": None, "gradient_accumulation_steps": None}
# Accepted and ignored: they only matter when an option above is on, or are TF-only.
_IGNORED = ("ema_momentum", "ema_overwrite_frequency", "jit_compile", "is_legacy_optimizer")


class Optimizer:
    """Base class of layerkit optimizers (Keras 3 numerics, tf.keras 2.x surface).

    Args:
        learning_rate: a non-negative float, a `LearningRateSchedule`, or a schedule config dict.
        name: optional name; defaults to the lower-cased class name.
        weight_decay: optional float >= 0; decoupled decay `w -= w * weight_decay * lr`
            applied before each update (Keras 3).
        clipnorm: optional float > 0; each gradient is rescaled to norm <= clipnorm.
        clipvalue: optional float > 0; each gradient is clipped to [-clipvalue, clipvalue].
        global_clipnorm: optional float > 0; all gradients are rescaled together so that
            their global norm is <= global_clipnorm. At most one clipping option may be set.
        **kwargs: tf.keras legacy `lr` (alias of `learning_rate`) and `decay` (time-based
            decay `lr / (1 + decay * iterations)`); Keras 3 keys at their off values.

    Example:
        >>> opt = RMSprop(learning_rate=1e-3)
        >>> opt.build(list(model.parameters()))
        >>> loss.backward(); opt.step()
    """

    def __init__(self, learning_rate, name=None, weight_decay=None, clipnorm=None,
                 clipvalue=None, global_clipnorm=None, **kwargs):
        owner = type(self).__name__
        if "lr" in kwargs:
            learning_rate = kwargs.pop("lr")
        decay = kwargs.pop("decay", None)  # None: Keras 3 configs; 0.0: tf.keras configs
        self.decay = _check_float(owner, "decay", decay or 0.0, low=0.0)
        _check_extra_kwargs(owner, kwargs)
        self.name = name if name is not None else owner.lower()
        self.weight_decay = _check_optional(owner, "weight_decay", weight_decay, strict=False)
        self.clipnorm = _check_optional(owner, "clipnorm", clipnorm)
        self.clipvalue = _check_optional(owner, "clipvalue", clipvalue)
        self.global_clipnorm = _check_optional(owner, "global_clipnorm", global_clipnorm)
        clips = [a for a in (clipnorm, clipvalue, global_clipnorm) if a is not None]
        if len(clips) > 1:
            raise ValueError(
                f"{owner}: only one of clipnorm, clipvalue and global_clipnorm can be set, "
                f"received clipnorm={clipnorm}, clipvalue={clipvalue}, "
                f"global_clipnorm={global_clipnorm}. Keep one of them."
            )
        self._learning_rate = _check_learning_rate(owner, learning_rate)
        self._iterations = 0
        self._params = None
        self._slots = {}
        self._pending_state = None

    # ----------------------------------------------------------------- learning rate
    @property
    def learning_rate(self):
        """The learning rate as a float: the schedule's value at `iterations`, or the set value.

        tf.keras's time-based `decay` is not folded in here (as `K.get_value(opt.lr)` in
        tf.keras); the decayed value is what `step` uses.
        """
        # a float that also takes `assign` (tf.keras `K.set_value(opt.lr, v)`)
        return HyperParameter(self._lr_value(), self, "learning_rate")

    def _lr_value(self):
        if isinstance(self._learning_rate, schedules.LearningRateSchedule):
            return float(self._learning_rate(self._iterations))
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        owner = type(self).__name__
        if isinstance(self._learning_rate, schedules.LearningRateSchedule) and not isinstance(
            value, (schedules.LearningRateSchedule, dict)
        ):
            raise TypeError(
                f"{owner} was created with a LearningRateSchedule, so its learning rate cannot "
                f"be set to {value!r}. Create the optimizer with a float learning_rate to "
                "change it during training, or assign another schedule."
            )
        self._learning_rate = _check_learning_rate(owner, value)

    lr = learning_rate  # tf.keras alias: `opt.lr`, `opt.lr = 0.01`

    def _current_lr(self):
        """The learning rate the next update uses (schedule and tf.keras `decay` applied)."""
        lr = self._lr_value()
        if self.decay:
            lr = lr / (1.0 + self.decay * self._iterations)
        return lr

    @property
    def iterations(self):
        """Number of completed update steps (int)."""
        return self._iterations

    @iterations.setter
    def iterations(self, value):
        if not isinstance(value, numbers.Integral) or value < 0:
            raise ValueError(
                f"{type(self).__name__}.iterations must be a non-negative int, received {value!r}"
            )
        self._iterations = int(value)

    # ----------------------------------------------------------------- state
    @property
    def built(self):
        """Whether `build` has created the slot state."""
        return self._params is not None

    def _slot_specs(self):
        """Returns `[(slot_name, initial_value), ...]` for each per-parameter slot."""
        return []

    def build(self, params):
        """Creates the slot state for `params` (a no-op when already built, as in Keras).

        Args:
            params: list of trainable `torch.nn.Parameter` (or leaf tensors).
        """
        if self.built:
            return
        self._params = list(params)
        self._index = {id(p): i for i, p in enumerate(self._params)}
        with torch.no_grad():
            self._slots = {
                name: [torch.full_like(p, value, memory_format=torch.preserve_format)
                       for p in self._params]
                for name, value in self._slot_specs()
            }
        if self._pending_state is not None:
            state, self._pending_state = self._pending_state, None
            self.load_state_dict(state)

    @property
    def variables(self):
        """Slot tensors, parameter by parameter then slot by slot (Keras 3 order)."""
        if not self.built:
            return []
        names = list(self._slots)
        return [self._slots[n][i] for i in range(len(self._params)) for n in names]

    def _extra_state(self):
        """Scalar state besides slots (e.g. Nadam's momentum product); a dict."""
        return {}

    # Keras 3 builds some slots group by group (RMSprop: every velocity, then every
    # momentum); a subclass lists its groups here. None: one group, parameter by parameter.
    keras_slot_groups = None

    @property
    def slot_names(self):
        """Names of the per-parameter slots (`['momentum', 'velocity']`), in build order."""
        return list(self._slots) if self.built else [n for n, _ in self._slot_specs()]

    @property
    def trainable_variables(self):
        """The parameters the optimizer was built on, in build order ([] before `build`)."""
        return list(self._params) if self.built else []

    def _slot_groups(self):
        slots = self.slot_names
        groups = [[s for s in group if s in slots] for group in self.keras_slot_groups or ()]
        listed = {s for group in groups for s in group}
        rest = [s for s in slots if s not in listed]
        return [g for g in groups if g] + ([rest] if rest else [])

    def state_arrays(self, param_names=None):
        """The whole state as `[(name, numpy array)]` in Keras 3's variable order:
        `iteration`, `learning_rate`, the slots (group by group, parameter by parameter
        within a group), then scalar state. Empty before `build`.

        Args:
            param_names: optional `{id(parameter): 'dense_kernel'}` for Keras-style names
                (`variable_<i>` otherwise).
        """
        if not self.built:
            return []
        out = [(f"{self.name}/iteration", np.asarray(self._iterations, dtype=np.int64)),
               (f"{self.name}/learning_rate", np.asarray(self.learning_rate, dtype=np.float32))]
        names = param_names or {}
        for group in self._slot_groups():
            for i, param in enumerate(self._params):
                base = names.get(id(param), f"variable_{i}")
                out.extend((f"{self.name}/{base}_{slot}",
                            self._slots[slot][i].detach().cpu().numpy()) for slot in group)
        out.extend((f"{self.name}/{key}", np.asarray(value, dtype=np.float64))
                   for key, value in sorted(self._extra_state().items()))
        return out

    def load_state_arrays(self, arrays, where="the file"):
        """Restores what `state_arrays` returned (its arrays alone, in order; or what Keras 3
        saved). Built optimizers only. A count that does not match warns and leaves the
        optimizer as it is (Keras 3 saves an unused optimizer as iteration + rate only).

        Raises:
            ValueError: for a slot of the wrong shape or an invalid iteration count.
        """
        owner = type(self).__name__
        if not self.built:
            raise ValueError(f"{owner}.load_state_arrays: build the optimizer first "
                             "(optimizer.build(model.trainable_weights))")
        extra = sorted(self._extra_state())
        expected = 2 + sum(len(g) for g in self._slot_groups()) * len(self._params) + len(extra)
        if len(arrays) == 2:
            self.iterations = _iteration_count(arrays[0], where)
            return
        if len(arrays) != expected:
            warnings.warn(f"{where}: the saved optimizer state holds {len(arrays)} arrays but "
                          f"{owner} needs {expected}; the optimizer starts fresh", stacklevel=3)
            return
        state = {"iterations": _iteration_count(arrays[0], where), "learning_rate": None,
                 "slots": self._slots_from(arrays[2:], where), "extra": {}}
        tail = arrays[expected - len(extra):]
        state["extra"] = {k: float(np.asarray(v).reshape(())) for k, v in zip(extra, tail)}
        saved_lr = float(np.asarray(arrays[1]).reshape(()))
        if not isinstance(self._learning_rate, schedules.LearningRateSchedule) and \
                np.float32(self.learning_rate) != np.float32(saved_lr):
            state["learning_rate"] = saved_lr  # changed after compile (ReduceLROnPlateau)
        self.load_state_dict(state)

    def _slots_from(self, arrays, where):
        slots = {name: [None] * len(self._params) for name in self._slots}
        position = 0
        for group in self._slot_groups():
            for i, param in enumerate(self._params):
                for slot in group:
                    value = arrays[position]
                    position += 1
                    if tuple(value.shape) != tuple(param.shape):
                        raise ValueError(f"{where}: optimizer slot {slot!r} of weight {i} has "
                                         f"shape {value.shape}, expected {tuple(param.shape)}")
                    slots[slot][i] = torch.as_tensor(value, dtype=param.dtype)
        return slots

    def save_own_variables(self, store):
        """Keras 3's `save_own_variables`: `store['0']`, `store['1']`, ... receive the state
        arrays in Keras 3's order (see `state_arrays`)."""
        for i, (_, value) in enumerate(self.state_arrays()):
            store[str(i)] = value

    def load_own_variables(self, store):
        """Keras 3's `load_own_variables`: restores `store['0']`, `store['1']`, ... (what
        `save_own_variables` or Keras 3 wrote) into the built optimizer."""
        self.load_state_arrays([np.asarray(store[str(i)]) for i in range(len(store))])

    def _load_extra_state(self, state):
        pass

    def state_dict(self):
        """Returns everything needed to resume bitwise: iterations, lr, slots, scalars.

        Slot tensors are returned by reference (as `torch.optim` does); `torch.save` copies them.
        """
        lr = self._learning_rate
        return {
            "iterations": self._iterations,
            "learning_rate": None if isinstance(lr, schedules.LearningRateSchedule) else lr,
            "slots": {name: list(tensors) for name, tensors in self._slots.items()},
            "extra": dict(self._extra_state()),
        }

    def load_state_dict(self, state):
        """Restores a `state_dict`; before `build`, the slots are restored when `build` runs."""
        self.iterations = state["iterations"]
        if state.get("learning_rate") is not None:
            self.learning_rate = state["learning_rate"]
        self._load_extra_state(state.get("extra", {}))
        if not self.built:
            self._pending_state = state
            return
        owner = type(self).__name__
        if set(state["slots"]) != set(self._slots):
            raise ValueError(
                f"{owner}.load_state_dict: expected slots {sorted(self._slots)}, received "
                f"{sorted(state['slots'])}. Load a state saved by an optimizer with the same "
                "options (momentum, centered, amsgrad...)."
            )
        with torch.no_grad():
            for name, tensors in state["slots"].items():
                if len(tensors) != len(self._params):
                    raise ValueError(
                        f"{owner}.load_state_dict: slot {name!r} holds {len(tensors)} tensors, "
                        f"expected one per parameter ({len(self._params)})."
                    )
                for own, saved in zip(self._slots[name], tensors):
                    own.copy_(saved)

    # ----------------------------------------------------------------- the step
    @torch.no_grad()
    def step(self):
        """Applies one update from each parameter's `.grad` and increments `iterations`.

        Parameters whose `.grad` is None are skipped (Keras: "gradients do not exist").

        Raises:
            RuntimeError: if `build` was not called.
            ValueError: if no parameter has a gradient.
        """
        if not self.built:
            raise RuntimeError(
                f"{type(self).__name__}.step() was called before build(params). "
                "Call optimizer.build(list_of_trainable_parameters) first."
            )
        self._apply(self._params, [p.grad for p in self._params])

    def apply(self, grads, trainable_variables=None):
        """Keras 3's `apply(grads, trainable_variables)`: applies `grads` to the variables
        (those of `build` when None), building on first use.

        Returns:
            The number of completed iterations.
        """
        if trainable_variables is None:
            if not self.built:
                raise ValueError(f"{type(self).__name__}.apply(grads) without "
                                 "trainable_variables needs a built optimizer")
            trainable_variables = self._params
        return self.apply_gradients(zip(grads, trainable_variables))

    @torch.no_grad()
    def apply_gradients(self, grads_and_vars):
        """Applies `(gradient, parameter)` pairs, building on first use (tf.keras API).

        Args:
            grads_and_vars: iterable of `(gradient tensor or None, parameter)` pairs.

        Returns:
            The number of completed iterations.
        """
        pairs = list(grads_and_vars)
        if not pairs:
            return self._iterations
        grads, params = [g for g, _ in pairs], [p for _, p in pairs]
        self.build(params)
        if len(params) == len(self._params) and all(
                a is b for a, b in zip(params, self._params)):
            params = self._params  # all of them, in build order: no slot gathering
            self._apply(params, grads)
            return self._iterations
        unknown = [i for i, p in enumerate(params) if id(p) not in self._index]
        if unknown:
            raise ValueError(
                f"{type(self).__name__}.apply_gradients: parameters at positions {unknown} were "
                "not passed to build(). Build the optimizer on all trainable parameters."
            )
        self._apply(params, grads)
        return self._iterations

    def _apply(self, params, grads):
        """Filters None gradients, clips, decays weights, updates, counts the step."""
        if not params:
            return
        if any(g is None for g in grads):
            keep = [i for i, g in enumerate(grads) if g is not None]
            if not keep:
                raise ValueError(
                    f"{type(self).__name__}: no gradients provided for any variable. Check that "
                    "the loss depends on the trainable parameters and that backward() ran."
                )
            params, grads = [params[i] for i in keep], [grads[i] for i in keep]
        if params is self._params:
            slots = self._slots
        else:
            rows = [self._index[id(p)] for p in params]
            slots = {name: [ts[i] for i in rows] for name, ts in self._slots.items()}
        lr = self._current_lr()
        grads = self._clip(grads)
        # Decaying accumulators turn denormal and make CPU math crawl: flush them (as
        # TensorFlow does) unless config.set_flush_denormal(False).
        flush = config.flush_denormal() is not False and params[0].device.type == "cpu"
        with config.denormals_flushed(flush):
            if self.weight_decay:
                torch._foreach_mul_(params, 1.0 - self.weight_decay * lr)
            self._update(params, grads, slots, lr, self._iterations + 1)
        self._iterations += 1

    # ----------------------------------------------------------------- captured steps
    # `compile(jit_compile=True)` runs the update inside one compiled graph (see
    # `layerkit.training.captured_step`). What changes from step to step (the learning
    # rate, Adam's bias correction) is computed here in Python exactly as `_apply` computes
    # it and enters the graph as tensor data, so a schedule or `ReduceLROnPlateau` never
    # recompiles the graph; `iterations` counts outside it.
    @property
    def supports_capture(self):
        """Whether this optimizer's update can run inside a captured step."""
        return type(self)._update_captured is not Optimizer._update_captured

    def captured_scalars(self):
        """The per-step numbers of the next update as Python floats: the subclass's
        (`_step_scalars`), then the weight-decay factor."""
        lr = self._current_lr()
        decay = 1.0 - self.weight_decay * lr if self.weight_decay else 1.0
        return self._step_scalars(lr, self._iterations + 1) + [decay]

    def captured_update(self, params, grads, scalars):
        """The update inside a captured graph: `_apply`'s clipping, decay and math, with
        the per-step numbers read from `scalars` (a 1-D tensor of `captured_scalars()`).
        Every parameter of `build` must have a gradient."""
        grads = self._clip(grads)
        if self.weight_decay:
            torch._foreach_mul_(params, scalars[-1])
        self._update_captured(params, grads, self._slots, scalars)

    def finish_captured_step(self):
        """Counts a step the captured graph applied."""
        self._iterations += 1

    def _step_scalars(self, lr, t):
        """The numbers `_update_captured` reads for step `t` (1-based) at rate `lr`."""
        return [lr]

    def _update_captured(self, params, grads, slots, scalars):
        """`_update` with its per-step numbers as tensors (`scalars`); optimizers without
        one run their captured models' steps eagerly."""
        raise NotImplementedError(f"{type(self).__name__} has no captured update")

    def _update(self, params, grads, slots, lr, t):
        """Updates `params` in place. Must not modify `grads` (they may be `.grad` tensors).

        Args:
            params: list of tensors to update.
            grads: list of gradients, same shapes.
            slots: dict slot name -> list of tensors aligned with `params`.
            lr: learning rate for this step (float).
            t: 1-based step number.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement _update")

    def _clip(self, grads):
        """Keras 3 `_clip_gradients`: returns new tensors, never modifies `grads`."""
        if self.clipnorm:
            # Keras: g * c / max(||g||, c), per tensor.
            norms = torch._foreach_norm(grads)
            torch._foreach_clamp_min_(norms, self.clipnorm)
            clipped = torch._foreach_mul(grads, self.clipnorm)
            torch._foreach_div_(clipped, norms)
            return clipped
        if self.global_clipnorm:
            norm = torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))
            # Keras: c * min(1/norm, 1/c); adding (norm - norm) turns a non-finite norm to NaN.
            c = self.global_clipnorm
            scale = c * torch.clamp_max(1.0 / norm, 1.0 / c) + (norm - norm)
            return torch._foreach_mul(grads, scale)
        if self.clipvalue:
            clipped = torch._foreach_clamp_min(grads, -self.clipvalue)
            torch._foreach_clamp_max_(clipped, self.clipvalue)
            return clipped
        return grads

    # ----------------------------------------------------------------- config
    def get_config(self):
        """Returns the constructor arguments (Keras names); `decay` only when set."""
        lr = self._learning_rate
        config = {
            "name": self.name,
            "learning_rate": schedules.serialize(lr)
            if isinstance(lr, schedules.LearningRateSchedule) else lr,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "global_clipnorm": self.global_clipnorm,
            "clipvalue": self.clipvalue,
        }
        if self.decay:
            config["decay"] = self.decay
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Creates an optimizer from `get_config()` output (or a Keras 3 / tf.keras config)."""
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules.deserialize(
                config["learning_rate"], custom_objects=custom_objects
            )
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r} learning_rate={self._learning_rate!r}>"


# --------------------------------------------------------------------- argument checks
def _iteration_count(array, where):
    value = np.asarray(array)
    if value.size != 1 or not np.isfinite(value).all() or value.reshape(()) < 0:
        raise ValueError(f"{where}: invalid optimizer iteration count {value!r}")
    return int(value.reshape(()))


def _check_extra_kwargs(owner, kwargs):
    for key, off in _OFF_ONLY.items():
        value = kwargs.pop(key, off)
        if value not in (off, None, False):
            raise ValueError(
                f"{owner}: {key}={value!r} is not supported by layerkit (only {off!r}). "
                "Remove the argument."
            )
    for key in _IGNORED:
        kwargs.pop(key, None)
    if kwargs:
        raise ValueError(
            f"{owner}: argument(s) not recognized: {kwargs}. Expected the {owner} arguments, "
            "plus weight_decay, clipnorm, clipvalue, global_clipnorm, name, and the legacy "
            "lr= and decay=."
        )


def _check_learning_rate(owner, value):
    if isinstance(value, dict):
        value = schedules.deserialize(value)
    if isinstance(value, schedules.LearningRateSchedule):
        return value
    if isinstance(value, (np.ndarray, torch.Tensor)) and value.ndim == 0:
        value = value.item()  # K.set_value(opt.lr, np.array(1e-3))
    return _check_float(owner, "learning_rate", value, low=0.0,
                        hint="Pass a float >= 0 or a LearningRateSchedule.")


def _check_float(owner, name, value, low=None, high=None, hint=""):
    """Returns `value` as a float, checking `low <= value <= high`."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if ok:
        value = float(value)
        ok = math.isfinite(value) and (low is None or value >= low) and (
            high is None or value <= high)
    if not ok:
        bounds = f"in [{low}, {high}]" if high is not None else f">= {low}"
        raise ValueError(
            f"{owner}({name}={value!r}): {name} must be a float {bounds}. {hint}".rstrip()
        )
    return value


def _check_optional(owner, name, value, strict=True):
    """Checks an optional float option: None, or > 0 (`strict`) / >= 0."""
    if value is None:
        return None
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and (
        value > 0 if strict else value >= 0)
    if not ok:
        sign = "> 0" if strict else ">= 0"
        raise ValueError(
            f"{owner}({name}={value!r}): {name} must be None or a float {sign}."
        )
    return float(value)


def _scalar_type(dtype):
    """NumPy scalar type for the bias-correction arithmetic of parameters of `dtype`.

    Keras computes `beta ** t` and friends in the variables' dtype; in float32, `1 - 0.999**t`
    loses ~1e-5 relative precision, which moves Adam's trajectory by ~1e-7 per step. Doing the
    same arithmetic in the same precision keeps layerkit on Keras's trajectory.
    """
    return {torch.float64: np.float64, torch.float16: np.float16}.get(dtype, np.float32)


def _check_bool(owner, name, value):
    if not isinstance(value, bool):
        raise ValueError(f"{owner}({name}={value!r}): {name} must be True or False.")
    return value
