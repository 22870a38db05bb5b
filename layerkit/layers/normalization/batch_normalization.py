"""BatchNormalization: normalizes with batch statistics in training, moving ones at inference."""

import torch
import torch.nn.functional as F

from ... import config, constraints, initializers, regularizers
from ...distribute import sync_batch
from ..input_spec import InputSpec
from ..layer import Layer
from ..weight_options import weight_options_config
from .normalization_utils import add_gamma_beta


class BatchNormalization(Layer):
    """Normalizes `axis` (the channels) to zero mean and unit variance, then scales and shifts.

    Training (`training=True` and the layer trainable): batch mean and biased variance over
    all other axes; the moving statistics follow Keras's convention
    `moving = moving * momentum + batch * (1 - momentum)`, also with the biased variance.
    Inference, or a frozen layer (`trainable=False`, itself or through a parent, as tf.keras
    >= 2.1.3 and Keras 3 do): the moving statistics. Weights, in Keras order: gamma, beta
    (trainable), moving_mean, moving_variance (non-trainable).

    Args:
        axis: int, the normalized (channels) axis; -1 for channels_last, 1 for channels_first.
        momentum: float in [0, 1], weight of the old moving statistics (torch's is 1 - this).
        epsilon: positive float added to the variance.
        center / scale: whether to learn beta / gamma.
        beta_initializer / gamma_initializer / moving_mean_initializer /
            moving_variance_initializer: Keras defaults zeros / ones / zeros / ones.
        beta_regularizer / gamma_regularizer: penalties.
        beta_constraint / gamma_constraint: projections after each update.
        synchronized: True computes the training batch's statistics over the global batch
            of a data-parallel `fit` (every rank's shard; gradients flow through the
            all-reduce), on CPU and GPU. Outside such a step (one process, world size 1)
            the numbers are exactly those of `synchronized=False`.

    Example:
        >>> BatchNormalization(axis=1)  # after a channels_first Conv2D
    """

    supports_masking = True

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones",
                 moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, synchronized=False, **kwargs):
        super().__init__(**kwargs)
        _check_arguments(axis, momentum, epsilon, synchronized)
        self.axis = axis
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.center = bool(center)
        self.scale = bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.synchronized = synchronized

    def build(self, input_shape):
        rank = len(input_shape)
        if not -rank <= self.axis < rank or self.axis % rank == 0:
            raise ValueError(
                f"Layer '{self.name}' (BatchNormalization): axis={self.axis} is the batch axis "
                f"or out of range for input shape {tuple(input_shape)}; use -1 (channels_last) "
                "or 1 (channels_first)"
            )
        channels = input_shape[self.axis]
        if channels is None:
            raise ValueError(
                f"Layer '{self.name}' (BatchNormalization) needs a known size on axis "
                f"{self.axis}, received input shape {tuple(input_shape)}"
            )
        self.input_spec = InputSpec(ndim=rank, axes={self.axis: channels})
        shape = (channels,)
        add_gamma_beta(self, shape, self.scale, self.center)
        self.add_weight("moving_mean", shape, self.moving_mean_initializer, trainable=False)
        self.add_weight("moving_variance", shape, self.moving_variance_initializer,
                        trainable=False)
        self.built = True

    def call(self, inputs, training=False, mask=None):
        axis = self.axis % inputs.dim()
        dtype = torch.promote_types(inputs.dtype, torch.float32)  # statistics in >= float32
        x = inputs.to(dtype)
        if not (training and self.trainable):
            # Fused torch kernel; it wants the channels on axis 1: (B, ..., C) -> (B, C, ...).
            out = F.batch_norm(x.movedim(axis, 1), self.moving_mean.to(dtype),
                               self.moving_variance.to(dtype), _cast(self.gamma, dtype),
                               _cast(self.beta, dtype), training=False, eps=self.epsilon)
            return out.movedim(1, axis).to(inputs.dtype)
        if self.synchronized and sync_batch.armed():
            mean, variance = self._global_moments(x, axis, mask)
        else:
            mean, variance = self._moments(x, axis, mask)
        self._update_moving_statistics(mean, variance)
        # Not F.batch_norm(training=True): its running-variance update uses the unbiased
        # variance, Keras the biased one; and masks need the weighted moments above.
        shape = [1] * x.dim()
        shape[axis] = -1  # (C,) -> broadcastable, e.g. (1, 1, C)
        inv = torch.rsqrt(variance + self.epsilon)
        if self.gamma is not None:
            inv = inv * self.gamma.to(dtype)
        out = (x - mean.reshape(shape)) * inv.reshape(shape)
        if self.beta is not None:
            out = out + self.beta.to(dtype).reshape(shape)
        return out.to(inputs.dtype)

    def _moments(self, x, axis, mask):
        """Per-channel mean and biased variance over all axes but `axis` (mask-weighted)."""
        dims = [d for d in range(x.dim()) if d != axis]
        if mask is None:
            variance, mean = torch.var_mean(x, dim=dims, correction=0)
            return mean, variance
        self._check_mask(x, mask)
        weights = mask.unsqueeze(-1).expand(x.shape).to(x.dtype)  # (..., ) -> (..., C)
        count = weights.sum(dim=dims) + config.epsilon()  # Keras 3 adds epsilon() here too
        keep = [1] * x.dim()
        keep[axis] = -1
        mean = (x * weights).sum(dim=dims) / count
        variance = (torch.square(x - mean.reshape(keep)) * weights).sum(dim=dims) / count
        return mean, variance

    def _global_moments(self, x, axis, mask):
        """`_moments` over every rank's shard: each rank's count, sum and squared deviations
        from its own mean, gathered and combined (Chan et al.'s pairwise update: no
        cancellation); a ghost shard's samples weigh 0."""
        dims = [d for d in range(x.dim()) if d != axis]
        if mask is None:
            weights = torch.ones_like(x)
        else:
            self._check_mask(x, mask)
            weights = mask.unsqueeze(-1).expand(x.shape).to(x.dtype)
        if sync_batch.is_ghost():
            weights = torch.zeros_like(weights)
        keep = [1] * x.dim()
        keep[axis] = -1
        count, total = weights.sum(dim=dims), (x * weights).sum(dim=dims)
        local_mean = total / count.clamp_min(1.0)  # 0/1 weights: an empty shard's sums are 0
        deviations = (torch.square(x - local_mean.reshape(keep)) * weights).sum(dim=dims)
        counts, totals, squares = sync_batch.all_gather(
            torch.stack([count, total, deviations])).unbind(1)  # each (ranks, C)
        count = counts.sum(dim=0)
        if mask is not None:
            count = count + config.epsilon()  # as `_moments` (Keras 3)
        mean = totals.sum(dim=0) / count
        between = counts * torch.square(totals / counts.clamp_min(1.0) - mean)
        return mean, (squares.sum(dim=0) + between.sum(dim=0)) / count

    def _check_mask(self, x, mask):
        if mask.dim() != x.dim() - 1:
            raise ValueError(
                f"Layer '{self.name}' (BatchNormalization): the mask must have one axis less "
                f"than the inputs, received mask shape {tuple(mask.shape)} and input shape "
                f"{tuple(x.shape)}"
            )

    def _update_moving_statistics(self, mean, variance):
        momentum = self.momentum
        with torch.no_grad():
            new_mean = self.moving_mean * momentum + mean.detach() * (1.0 - momentum)
            new_variance = self.moving_variance * momentum + variance.detach() * (1.0 - momentum)
            self.moving_mean.copy_(new_mean)
            self.moving_variance.copy_(new_variance)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            axis=self.axis,
            momentum=self.momentum,
            epsilon=self.epsilon,
            center=self.center,
            scale=self.scale,
            moving_mean_initializer=initializers.serialize(self.moving_mean_initializer),
            moving_variance_initializer=initializers.serialize(
                self.moving_variance_initializer),
            synchronized=self.synchronized,
            **weight_options_config(self, "beta", "gamma"),
        )
        return config


def _check_arguments(axis, momentum, epsilon, synchronized):
    if isinstance(axis, bool) or not isinstance(axis, int):
        raise ValueError(
            f"BatchNormalization(axis={axis!r}): axis must be an integer (-1 for "
            f"channels_last, 1 for channels_first), received {axis!r}"
        )
    if not isinstance(momentum, (int, float)) or not 0 <= momentum <= 1:
        raise ValueError(
            f"BatchNormalization(momentum={momentum!r}): momentum must be a float in [0, 1] "
            f"(Keras convention, default 0.99), received {momentum!r}"
        )
    if not isinstance(epsilon, (int, float)) or epsilon <= 0:
        raise ValueError(
            f"BatchNormalization(epsilon={epsilon!r}): epsilon must be a positive float, "
            f"received {epsilon!r}"
        )
    if not isinstance(synchronized, bool):
        raise ValueError(
            f"BatchNormalization(synchronized={synchronized!r}): synchronized must be True "
            f"or False, received {synchronized!r}"
        )


def _cast(param, dtype):
    return None if param is None else param.to(dtype)
