"""Flatten: collapses every non-batch axis into one, in Keras (channels_last) order."""

from ... import config
from ..layer import Layer


class Flatten(Layer):
    """Flattens the input to (batch, features).

    Args:
        data_format: 'channels_last' or 'channels_first' (default: the global setting).
            channels_first input is moved to channels_last first, so the flattened order is
            always (H, W, C) and weights ported from Keras need no reordering.
    """

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        data_format = data_format or config.image_data_format()
        if data_format not in ("channels_last", "channels_first"):
            raise ValueError(
                f"Flatten(data_format={data_format!r}): expected 'channels_last' or "
                "'channels_first'"
            )
        self.data_format = data_format

    def call(self, inputs):
        if self.data_format == "channels_first" and inputs.dim() > 2:
            inputs = inputs.movedim(1, -1)  # (B, C, ...) -> (B, ..., C)
        return inputs.reshape(inputs.shape[0], -1)

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        size = None if any(d is None for d in rest) else int(_prod(rest))
        return (input_shape[0], size)

    def get_config(self):
        config_ = super().get_config()
        config_["data_format"] = self.data_format
        return config_


def _prod(dims):
    out = 1
    for d in dims:
        out *= d
    return out
