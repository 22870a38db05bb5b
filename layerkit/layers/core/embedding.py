"""Embedding: integer indices → rows of a trainable (input_dim, output_dim) matrix."""

import torch
import torch.nn.functional as F

from ... import constraints, initializers, regularizers
from ..layer import Layer
from ..weight_options import weight_options_config


class Embedding(Layer):
    """Turns indices into dense vectors: `output[..., :] = embeddings[inputs[...]]`.

    Where Keras versions differ: `input_length` is tf.keras 2.x's argument (Keras 3 drops it).
    As in tf.keras 2.x, the layer declares its input shape `(None, input_length)` (or
    `(None, None)` without it), so a Sequential model that starts with an Embedding is built
    at once and `summary()` works before any data; `Embedding(10000, 8, input_length=20)`
    followed by `Flatten()` and `Dense(1)` has 80,000 + 161 weights.

    Args:
        input_dim: positive int, vocabulary size (largest index + 1).
        output_dim: positive int, size of each vector.
        embeddings_initializer: Keras default 'uniform' = U(-0.05, 0.05).
        embeddings_regularizer / activity_regularizer: penalties.
        embeddings_constraint: projection after each update.
        mask_zero: whether index 0 is padding; the output then carries the mask
            `inputs != 0` and `input_dim` must count index 0.
        input_length: optional length of the (constant-length) sequences.

    Input: integer tensor (batch, ...) (floats are cast to int64).
    Output: (batch, ..., output_dim) in the layer's float dtype.

    Example:
        >>> Embedding(10000, 32, mask_zero=True)
    """

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform",
                 embeddings_regularizer=None, activity_regularizer=None,
                 embeddings_constraint=None, mask_zero=False, input_length=None, **kwargs):
        for arg, value in (("input_dim", input_dim), ("output_dim", output_dim)):
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(
                    f"Embedding({arg}={value!r}): {arg} must be a positive integer, "
                    f"received {value!r}"
                )
        if input_length is not None and (
                isinstance(input_length, bool) or not isinstance(input_length, int)
                or input_length <= 0):
            raise ValueError(
                f"Embedding(input_length={input_length!r}): input_length must be None or a "
                f"positive integer, received {input_length!r}"
            )
        if not any(kwargs.get(k) is not None for k in ("input_shape", "batch_input_shape")):
            # tf.keras 2.x: the Embedding always declares its input shape.
            kwargs["batch_input_shape"] = (kwargs.pop("batch_size", None), input_length)
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.input_dim = input_dim
        self.output_dim = output_dim
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.mask_zero = bool(mask_zero)
        self.input_length = input_length

    def build(self, input_shape):
        self.add_weight("embeddings", (self.input_dim, self.output_dim),
                        self.embeddings_initializer, self.embeddings_regularizer,
                        constraint=self.embeddings_constraint)
        self.built = True

    def call(self, inputs):
        if inputs.dtype != torch.long:
            inputs = inputs.long()
        if inputs.device.type != "meta" and inputs.numel():
            low, high = torch.aminmax(inputs)  # one pass; the sync is cheap next to a lookup
            if int(high) >= self.input_dim or int(low) < 0:
                raise ValueError(
                    f"Layer '{self.name}' (Embedding): indices must be in [0, "
                    f"{self.input_dim - 1}] (input_dim={self.input_dim}), received indices "
                    f"from {int(low)} to {int(high)}; raise input_dim above the largest "
                    "index, or limit the vocabulary (e.g. num_words=) when encoding the data"
                )
        return F.embedding(inputs, self.embeddings)  # (B, ...) -> (B, ..., output_dim)

    def compute_mask(self, inputs, mask=None):
        if not self.mask_zero:
            return None
        return inputs != 0

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def _input_torch_dtype(self):
        return torch.long

    def get_config(self):
        config = super().get_config()
        config.update(
            input_dim=self.input_dim,
            output_dim=self.output_dim,
            **weight_options_config(self, "embeddings"),
            mask_zero=self.mask_zero,
            input_length=self.input_length,
        )
        return config
