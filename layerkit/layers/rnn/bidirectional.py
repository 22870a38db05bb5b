"""Bidirectional: runs a recurrent layer forwards and a copy backwards, then merges."""

import torch

from ..layer import Layer
from .wrapper import deserialize_layer, serialize_layer

_MERGE_MODES = ("concat", "sum", "mul", "ave", None)


class Bidirectional(Layer):
    """Bidirectional wrapper for SimpleRNN, LSTM and GRU (Keras 3 semantics).

    The forward layer is a fresh copy of `layer` named `forward_<name>`; the backward layer
    is `backward_layer`, or a copy with `go_backwards` flipped named `backward_<name>`. With
    `return_sequences` the backward outputs are flipped back to input time order and masked
    steps output zeros (Keras forces `zero_output_for_mask` there). Weights: forward layer's,
    then backward layer's.

    Args:
        layer: a recurrent layer instance (its weights are not shared).
        merge_mode: 'concat' (default), 'sum', 'mul', 'ave', or None for `[forward, backward]`.
        backward_layer: optional recurrent layer for the backward direction.

    `return_state=True` returns `[output, *forward_states, *backward_states]`.

    Example:
        >>> Bidirectional(LSTM(64, return_sequences=True), input_shape=(5, 10))
    """

    supports_masking = True

    def __init__(self, layer, merge_mode="concat", backward_layer=None, **kwargs):
        for arg, value in (("layer", layer), ("backward_layer", backward_layer)):
            if value is not None and not (isinstance(value, Layer)
                                          and hasattr(value, "go_backwards")):
                raise ValueError(
                    f"Bidirectional({arg}=...): expected a recurrent layer instance "
                    f"(SimpleRNN, LSTM, GRU), received {value!r}"
                )
        if merge_mode not in _MERGE_MODES:
            raise ValueError(
                f"Bidirectional(merge_mode={merge_mode!r}): merge_mode must be one of "
                f"{list(_MERGE_MODES)}, received {merge_mode!r}"
            )
        super().__init__(**kwargs)
        self.forward_layer = _copy(layer, "forward_")
        self.backward_layer = backward_layer if backward_layer is not None else \
            _copy(layer, "backward_", go_backwards=not layer.go_backwards)
        self._check_directions()
        for direction in (self.forward_layer, self.backward_layer):
            direction.zero_output_for_mask = direction.return_sequences
        self.merge_mode = merge_mode
        self.return_sequences = self.forward_layer.return_sequences
        self.return_state = self.forward_layer.return_state
        self.stateful = self.forward_layer.stateful

    def _check_directions(self):
        forward, backward = self.forward_layer, self.backward_layer
        if forward.go_backwards == backward.go_backwards:
            raise ValueError(
                "Bidirectional: the forward and backward layers need different go_backwards, "
                f"received {forward.go_backwards} for both"
            )
        for attr in ("stateful", "return_sequences", "return_state"):
            if getattr(forward, attr) != getattr(backward, attr):
                raise ValueError(
                    f"Bidirectional: the forward and backward layers need the same {attr}, "
                    f"received {getattr(forward, attr)} and {getattr(backward, attr)}"
                )

    def build(self, input_shape):
        for layer in (self.forward_layer, self.backward_layer):
            if not layer.built:
                layer.build(input_shape)
        self.built = True

    def call(self, inputs, initial_state=None, training=False, mask=None):
        forward_state = backward_state = None
        if initial_state is not None:
            half = len(initial_state) // 2
            forward_state, backward_state = initial_state[:half], initial_state[half:]
        y = self.forward_layer(inputs, initial_state=forward_state, training=training,
                               mask=mask)
        y_rev = self.backward_layer(inputs, initial_state=backward_state, training=training,
                                    mask=mask)
        states = []
        if self.return_state:
            states = list(y[1:]) + list(y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = y_rev.flip(1)  # (B, T, u) back to input time order
        output = _merge(self.merge_mode, y, y_rev)
        if self.return_state:
            return (output if self.merge_mode is None else [output]) + states
        return output

    def compute_mask(self, inputs, mask=None):
        if self.return_sequences and self.merge_mode is not None and not self.return_state:
            return mask
        return None

    def compute_output_shape(self, input_shape):
        shape = self.forward_layer.compute_output_shape(input_shape)
        states = []
        if self.return_state:
            states = list(shape[1:]) + list(self.backward_layer.compute_output_shape(
                input_shape)[1:])
            shape = shape[0]
        shape = tuple(shape)
        if self.merge_mode == "concat":
            shape = shape[:-1] + (shape[-1] * 2,)
        output = [shape, shape] if self.merge_mode is None else [shape]
        if self.return_state or self.merge_mode is None:
            return output + states
        return shape

    def reset_states(self):
        """Forgets the carried-over states of both directions (stateful layers)."""
        self.forward_layer.reset_states()
        self.backward_layer.reset_states()

    def get_config(self):
        config = super().get_config()
        config.update(layer=serialize_layer(self.forward_layer), merge_mode=self.merge_mode,
                      backward_layer=serialize_layer(self.backward_layer))
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        config["layer"] = deserialize_layer(config["layer"], custom_objects)
        if config.get("backward_layer") is not None:
            config["backward_layer"] = deserialize_layer(config["backward_layer"],
                                                         custom_objects)
        return cls(**config)


def _copy(layer, prefix, **changes):
    """A fresh layer from `layer`'s config, renamed `<prefix><name>`."""
    config = layer.get_config()
    config.update(changes)
    name = layer.name[len(prefix):] if layer.name.startswith(prefix) else layer.name
    config["name"] = prefix + name
    return type(layer).from_config(config)


def _merge(mode, y, y_rev):
    if mode == "concat":
        return torch.cat([y, y_rev], dim=-1)
    if mode == "sum":
        return y + y_rev
    if mode == "ave":
        return (y + y_rev) / 2
    if mode == "mul":
        return y * y_rev
    return [y, y_rev]
