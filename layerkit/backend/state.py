"""The learning phase: Keras 2's global train/test switch for backend code.

`K.set_learning_phase(1)` sets the default; `K.function` sets it for the duration of one
evaluation (from a fed `K.learning_phase()` value). Layers never read it: the engine and
graphs pass `training=` explicitly. Only `K.in_train_phase` and `K.learning_phase()`
values consult it.
"""

import contextlib

_PHASE = {"default": 0, "stack": []}


def in_training():
    """The current learning phase as a bool."""
    stack = _PHASE["stack"]
    return bool(stack[-1] if stack else _PHASE["default"])


def set_default_phase(value):
    if value not in (0, 1, True, False):
        raise ValueError(f"set_learning_phase: expected 0 or 1, received {value!r}")
    _PHASE["default"] = int(value)


@contextlib.contextmanager
def phase(value):
    """Sets the learning phase inside a `with` block (one K.function call)."""
    _PHASE["stack"].append(int(bool(value)))
    try:
        yield
    finally:
        _PHASE["stack"].pop()
