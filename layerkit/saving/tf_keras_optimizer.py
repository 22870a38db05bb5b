"""The optimizer state of `.h5` files written by tf.keras 2.x, matched to layerkit's slots.

Who owns what: `h5_format` hands over the `optimizer_weights` names and arrays and the
file's `{weight name: parameter}` pairing; this module reads the two layouts tf.keras
used and fills the layerkit optimizer, or reports that it cannot (the caller then warns
and the optimizer starts fresh):
- tf.keras 2.11+ / tf-keras optimizers: `iteration:0`, then `<Optimizer>/<slot>/<weight
  name>` (`Adam/m/dense/kernel:0`);
- tf.keras <= 2.10 (and `tf.keras.optimizers.legacy`): `<Optimizer>/iter:0`, then
  `<Optimizer>/<weight name without :0>/<slot>:0` (`Adam/dense/kernel/m:0`).
Slot names differ from Keras 3's (`m` is `momentum`, `rms` is `velocity`, ...). Slots a
layerkit optimizer does not keep are skipped only when they hold zeros, or when they are
the momentums tf-keras's SGD builds for `momentum=0` (where they never act on a step).
"""

import numpy as np
import torch

from .training_state import built_optimizer

# tf.keras slot name -> layerkit slot name, per optimizer (names not listed are the same)
_SLOT_NAMES = {
    "Adam": {"m": "momentum", "v": "velocity", "vhat": "velocity_hat"},
    "AdamW": {"m": "momentum", "v": "velocity", "vhat": "velocity_hat"},
    "Nadam": {"m": "momentum", "v": "velocity"},
    "Adamax": {"m": "momentum", "u": "norm", "v": "norm"},
    "RMSprop": {"rms": "velocity", "mg": "average_gradient"},
    "SGD": {"m": "momentum"},
    "Adadelta": {"accum_grad": "accumulated_grad", "accum_var": "accumulated_delta_var"},
    "Adagrad": {},
}


def load(model, names, arrays, weight_params):
    """Fills `model.optimizer` from a tf.keras 2.x `optimizer_weights` group.

    Args:
        model: the compiled model (its optimizer is built here).
        names: the group's `weight_names`, in order.
        arrays: the matching numpy arrays.
        weight_params: `{file weight name ('dense/kernel:0'): layerkit parameter}`.

    Returns:
        None when the state was restored, else a reason (str) why it was not.
    """
    opt = built_optimizer(model)
    params = opt.trainable_variables
    kind = next((k.__name__ for k in type(opt).__mro__ if k.__name__ in _SLOT_NAMES), None)
    if kind is None:
        return f"{type(opt).__name__} state in tf.keras's layout is not translated"
    if not names or not names[0].endswith(("iteration:0", "iter:0")):
        return f"the first optimizer weight is {names[:1]}, expected the iteration count"
    index = {id(p): i for i, p in enumerate(params)}
    slots = {slot: [None] * len(params) for slot in opt.slot_names}
    for name, value in zip(names[1:], arrays[1:]):
        slot, weight = _parse(name, weight_params)
        if weight is None:
            return f"optimizer weight {name!r} names no weight of the model"
        slot = _SLOT_NAMES[kind].get(slot, slot)
        position = index.get(id(weight_params[weight]))
        if slot not in slots or position is None:
            # tf-keras's SGD keeps its last step in `m` even for momentum=0: unused state
            if np.any(value) and not (kind == "SGD" and slot == "momentum"):
                return f"optimizer weight {name!r} has no counterpart in {kind} here"
            continue
        if tuple(value.shape) != tuple(params[position].shape):
            return f"optimizer weight {name!r} has shape {value.shape}, expected " \
                   f"{tuple(params[position].shape)}"
        slots[slot][position] = torch.as_tensor(value, dtype=params[position].dtype)
    missing = [s for s, values in slots.items() if any(v is None for v in values)]
    if missing:
        return f"the file holds no {missing} state for some weights"
    iterations = np.asarray(arrays[0])
    if iterations.size != 1 or not np.isfinite(iterations).all() or \
            iterations.reshape(()) < 0:
        return f"invalid iteration count {iterations!r}"
    opt.load_state_dict({"iterations": int(iterations.reshape(())), "learning_rate": None,
                         "slots": slots, "extra": {}})
    return None


def _parse(name, weight_params):
    """(slot, file weight name) of an optimizer weight name, in either tf.keras layout."""
    parts = name.split("/")
    if len(parts) < 3:
        return None, None
    weight = "/".join(parts[2:])  # tf.keras 2.11+: Adam/m/dense/kernel:0
    if weight in weight_params:
        return parts[1], weight
    slot = parts[-1][:-2] if parts[-1].endswith(":0") else parts[-1]
    weight = "/".join(parts[1:-1]) + ":0"  # tf.keras <= 2.10: Adam/dense/kernel/m:0
    return (slot, weight) if weight in weight_params else (None, None)
