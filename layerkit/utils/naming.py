"""Keras-style automatic names: `dense`, `dense_1`, ... (tf.keras zero-based counters)."""

import re

_COUNTERS = {}


def to_snake_case(name):
    """`Conv2D` → `conv2d`, `MaxPooling2D` → `max_pooling2d`, `SimpleRNN` → `simple_rnn`."""
    intermediate = re.sub(r"(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", intermediate).lower()


def unique_name(base, zero_based=True):
    """Returns `base`, then `base_1`, `base_2`, ... (reset by `reset_names`).

    With `zero_based=False` (tf.keras does this for inputs) the first name is `base_1`.
    """
    count = _COUNTERS.get(base, 0)
    _COUNTERS[base] = count + 1
    if zero_based:
        return base if count == 0 else f"{base}_{count}"
    return f"{base}_{count + 1}"


def reset_names():
    """Forgets all counters, as Keras's `clear_session` does."""
    _COUNTERS.clear()
