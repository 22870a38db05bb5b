"""LayerNormalization: normalizes each sample over its feature axes."""

import warnings

import torch
import torch.nn.functional as F

from ... import constraints, initializers, regularizers
from ..layer import Layer
from ..weight_options import weight_options_config
from .normalization_utils import add_gamma_beta


class LayerNormalization(Layer):
    """Normalizes each sample to zero mean and unit variance over `axis`, then scales/shifts.

    Same in training and inference. Weights: gamma (if scale), beta (if center), each with
    the shape of the normalized axes.

    Args:
        axis: int or list of ints, the normalized axes (default -1, the features).
        epsilon: positive float added to the variance (Keras default 1e-3).
        center / scale: whether to learn beta / gamma.
        beta_initializer / gamma_initializer: Keras defaults zeros / ones.
        beta_regularizer / gamma_regularizer: penalties.
        beta_constraint / gamma_constraint: projections after each update.
        rms_scaling: deprecated Keras 3 option kept for parity: `x * rsqrt(var(x) + eps)
            * gamma` (no centering, no beta); use an RMS normalization layer instead.

    Example:
        >>> LayerNormalization(epsilon=1e-6)
    """

    supports_masking = True

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                 rms_scaling=False, **kwargs):
        super().__init__(**kwargs)
        items = list(axis) if isinstance(axis, (list, tuple)) else [axis]
        if not items or not all(isinstance(a, int) and not isinstance(a, bool) for a in items):
            raise ValueError(
                f"LayerNormalization(axis={axis!r}): axis must be an int or a list of ints, "
                f"received {axis!r}"
            )
        if not isinstance(epsilon, (int, float)) or epsilon <= 0:
            raise ValueError(
                f"LayerNormalization(epsilon={epsilon!r}): epsilon must be a positive float, "
                f"received {epsilon!r}"
            )
        if rms_scaling:
            warnings.warn(
                "LayerNormalization(rms_scaling=True) is deprecated in Keras 3: it scales by "
                "the variance, not the root mean square", DeprecationWarning, stacklevel=2)
        self.axis = list(axis) if isinstance(axis, (list, tuple)) else axis
        self.epsilon = float(epsilon)
        self.center = bool(center)
        self.scale = bool(scale)
        self.rms_scaling = bool(rms_scaling)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)

    def build(self, input_shape):
        axes = self._positive_axes(len(input_shape), input_shape)
        shape = tuple(input_shape[a] for a in axes)
        if None in shape:
            raise ValueError(
                f"Layer '{self.name}' (LayerNormalization) needs known sizes on axes {axes}, "
                f"received input shape {tuple(input_shape)}"
            )
        add_gamma_beta(self, shape, self.scale or self.rms_scaling,
                       self.center and not self.rms_scaling)
        self.built = True

    def call(self, inputs):
        rank = inputs.dim()
        axes = self._positive_axes(rank, tuple(inputs.shape))
        dtype = torch.promote_types(inputs.dtype, torch.float32)  # statistics in >= float32
        x = inputs.to(dtype)
        gamma = None if self.gamma is None else self.gamma.to(dtype)
        beta = None if self.beta is None else self.beta.to(dtype)
        if not self.rms_scaling and axes == list(range(rank - len(axes), rank)):
            normalized_shape = tuple(x.shape[rank - len(axes):])
            out = F.layer_norm(x, normalized_shape, gamma, beta, self.epsilon)
            return out.to(inputs.dtype)
        # Axes that are not the trailing ones (or rms_scaling): Keras 3's explicit formula.
        shape = [x.shape[d] if d in axes else 1 for d in range(rank)]  # gamma broadcast
        variance, mean = torch.var_mean(x, dim=axes, correction=0, keepdim=True)
        inv = torch.rsqrt(variance + self.epsilon)
        if gamma is not None:
            inv = inv * gamma.reshape(shape)
        if self.rms_scaling:
            return (x * inv).to(inputs.dtype)
        shift = -mean * inv
        if beta is not None:
            shift = shift + beta.reshape(shape)
        return (x * inv + shift).to(inputs.dtype)

    def _positive_axes(self, rank, shape):
        axes = self.axis if isinstance(self.axis, list) else [self.axis]
        if any(not -rank <= a < rank for a in axes) or any(a % rank == 0 for a in axes):
            raise ValueError(
                f"Layer '{self.name}' (LayerNormalization): axis={self.axis} is the batch "
                f"axis or out of range for input shape {tuple(shape)}; use axes in "
                f"[1, {rank})"
            )
        return sorted({a % rank for a in axes})

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            axis=self.axis,
            epsilon=self.epsilon,
            center=self.center,
            scale=self.scale,
            rms_scaling=self.rms_scaling,
            **weight_options_config(self, "beta", "gamma"),
        )
        return config
