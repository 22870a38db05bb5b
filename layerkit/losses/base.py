"""The Loss contract: per-sample values → one weighted, reduced scalar (Keras 3 semantics).

Who owns what: the functions in the family modules compute per-sample values (mean over the
last axis); `Loss.__call__` converts inputs, aligns ranks, applies sample weights and masks
and reduces; `FunctionLoss` turns a per-sample `fn(y_true, y_pred)` into a `Loss`. Nothing
here looks names up: `function_wrapper` and `lookup` sit above the families and do.
"""

import torch

from layerkit import config
from layerkit.graph import tensor_info
from layerkit.utils.naming import to_snake_case

REDUCTIONS = ("sum_over_batch_size", "sum", "none", None, "mean", "mean_with_sample_weight")


def standardize_reduction(reduction):
    """Checks a reduction name; tf.keras's `'auto'` means `'sum_over_batch_size'`.

    Args:
        reduction: one of `REDUCTIONS` or `'auto'`.

    Returns:
        The reduction name.
    """
    if reduction == "auto":
        return "sum_over_batch_size"
    if reduction not in REDUCTIONS:
        raise ValueError(
            f"Loss: reduction must be one of {REDUCTIONS}, received {reduction!r}. "
            "Use 'sum_over_batch_size' (the default) for a mean over the batch."
        )
    return reduction


def squeeze_or_expand_to_same_rank(x1, x2, expand_rank_1=True):
    """Squeezes or expands a trailing size-1 axis so ranks match (never broadcast (n,) × (n,1)).

    Args:
        x1, x2: tensors whose ranks differ by at most one.
        expand_rank_1: expand a rank-1 tensor rather than squeeze the other one.

    Returns:
        `(x1, x2)` with equal ranks where a size-1 last axis allowed it.
    """
    r1, r2 = x1.dim(), x2.dim()
    if r1 == r2 + 1 and x1.shape[-1] == 1:
        if r2 == 1 and expand_rank_1:
            x2 = x2.unsqueeze(-1)
        else:
            x1 = x1.squeeze(-1)
    elif r2 == r1 + 1 and x2.shape[-1] == 1:
        if r1 == 1 and expand_rank_1:
            x1 = x1.unsqueeze(-1)
        else:
            x2 = x2.squeeze(-1)
    return x1, x2


def align(y_true, y_pred):
    """Rank-aligns `y_true` with `y_pred`, keeping the logits `y_pred` was computed from."""
    new_true, new_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return new_true, tensor_info.carry_logits(new_pred, y_pred)


def as_pair(y_true, y_pred, true_dtype=None):
    """Converts both arguments to tensors on `y_pred`'s device; `y_true` to `true_dtype`.

    Args:
        y_true: targets (tensor, numpy array or nested lists).
        y_pred: predictions; a float tensor (or array-like, converted to floatx).
        true_dtype: dtype for the targets; defaults to `y_pred.dtype`.

    Returns:
        `(y_true, y_pred)` tensors.
    """
    if not isinstance(y_pred, torch.Tensor):
        y_pred = torch.as_tensor(y_pred, dtype=config.floatx_dtype())
    elif not y_pred.is_floating_point():
        y_pred = y_pred.to(config.floatx_dtype())
    y_true = torch.as_tensor(y_true, device=y_pred.device)
    return y_true.to(true_dtype or y_pred.dtype), y_pred


def _weights_like(values, sample_weight, mask, reduction):
    """Merges a boolean mask into sample weights as Keras 3's `apply_mask` does."""
    if mask is not None:
        mask = mask.to(values.dtype)
        if reduction in ("mean", "sum_over_batch_size"):
            # Valid entries weigh total/valid so the mean runs over the valid ones only.
            valid = mask.sum()
            scale = torch.where(valid > 0, mask.numel() / valid.clamp_min(1), 0.0)
            mask = mask * scale
        if sample_weight is None:
            return mask
        mask, sample_weight = squeeze_or_expand_to_same_rank(mask, sample_weight)
        sample_weight = sample_weight * mask
    return sample_weight


def reduce_weighted_values(values, sample_weight=None, mask=None, reduction="sum_over_batch_size"):
    """Weights per-sample values and reduces them (Keras 3 `reduce_weighted_values`).

    Args:
        values: per-sample losses, shape `(batch, ...)`.
        sample_weight: optional weights broadcastable to `values` after rank alignment.
        mask: optional boolean tensor shaped like `values`.
        reduction: see `REDUCTIONS`.

    Returns:
        A 0-dim tensor, or `values` unreduced for `'none'`/None.
    """
    if sample_weight is not None:
        sample_weight = torch.as_tensor(sample_weight, device=values.device).to(values.dtype)
    sample_weight = _weights_like(values, sample_weight, mask, reduction)
    if sample_weight is not None:
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        if sample_weight.dim() < values.dim():
            # Per-sample weights on per-timestep losses weigh every step of the sample.
            sample_weight = sample_weight.reshape(
                sample_weight.shape + (1,) * (values.dim() - sample_weight.dim())
            )
        values = values * sample_weight
    if reduction in (None, "none") or values.dim() == 0 or values.numel() == 0:
        return values
    total = values.sum()
    if reduction == "sum":
        return total
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        divisor = sample_weight.sum()
        return torch.where(divisor != 0, total / divisor, torch.zeros_like(total))
    return total / values.numel()


class Loss:
    """Base class of losses: `loss(y_true, y_pred, sample_weight=None)` → scalar tensor.

    Subclasses implement `call(y_true, y_pred)` returning per-sample values.

    Args:
        reduction: `'sum_over_batch_size'` (default: Σ(v·w) / number of values), `'sum'`,
            `'mean'` (same as the default), `'mean_with_sample_weight'` (Σ(v·w) / Σw),
            or `'none'`/None (per-sample values).
        name: the loss's name.

    Example:
        >>> MeanSquaredError()(torch.tensor([[1.0], [2.0]]), torch.tensor([[1.0], [0.0]]))
        tensor(2.)
    """

    integer_targets = False  # sparse losses take int64 labels instead of floats

    def __init__(self, reduction="sum_over_batch_size", name=None):
        self.reduction = standardize_reduction(reduction)
        self.name = name or to_snake_case(type(self).__name__)

    def __call__(self, y_true, y_pred, sample_weight=None):
        """Computes the reduced, weighted loss.

        Args:
            y_true: targets, shape `(batch, ...)`.
            y_pred: predictions, shape `(batch, ...)`; a mask or sigmoid/softmax logits
                it carries (see `layerkit.graph.tensor_info`) are used.
            sample_weight: optional weights, shape `(batch,)` or like the per-sample values.

        Returns:
            A 0-dim tensor (or per-sample values for reduction `'none'`).
        """
        in_mask = tensor_info.get_mask(y_pred) if isinstance(y_pred, torch.Tensor) else None
        if isinstance(y_pred, torch.Tensor) and y_pred.dtype != config.floatx_dtype():
            y_pred = tensor_info.carry_logits(y_pred.to(config.floatx_dtype()), y_pred)
        true_dtype = torch.long if self.integer_targets else None
        y_true, y_pred = as_pair(y_true, y_pred, true_dtype)
        values = self.call(y_true, y_pred)
        out_mask = tensor_info.get_mask(values)
        mask = _merge_masks(in_mask, out_mask)
        return reduce_weighted_values(values, sample_weight, mask, self.reduction)

    def call(self, y_true, y_pred):
        """Per-sample losses; implemented by subclasses."""
        raise NotImplementedError(f"{type(self).__name__} must implement call(y_true, y_pred)")

    def get_config(self):
        """Returns the constructor arguments."""
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        """Rebuilds a loss from `get_config()`."""
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r}>"


def _merge_masks(a, b):
    if a is None:
        return b
    if b is None:
        return a
    return a.bool() & b.bool()


class FunctionLoss(Loss):
    """A `Loss` computed by a per-sample function `fn(y_true, y_pred, **kwargs)`.

    The base of the built-in losses (`FixedFunctionLoss`) and of `LossFunctionWrapper`
    (in `function_wrapper`, which also rebuilds a function named in a config).

    Args:
        fn: the per-sample loss function.
        reduction: see `Loss`.
        name: defaults to `fn.__name__`.
        **kwargs: extra keyword arguments passed to `fn` on every call.
    """

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, **kwargs):
        super().__init__(reduction=reduction, name=name or getattr(fn, "__name__", None))
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true, y_pred):
        """Aligns ranks, then applies `fn`."""
        y_true, y_pred = align(y_true, y_pred)
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self):
        """Returns name, reduction, the function's name and its keyword arguments."""
        config = super().get_config()
        config["fn"] = getattr(self.fn, "__name__", repr(self.fn))
        config.update(self._fn_kwargs)
        return config

    def __repr__(self):
        return f"<{type(self).__name__}({getattr(self.fn, '__name__', self.fn)}, " \
               f"name={self.name!r})>"


class FixedFunctionLoss(FunctionLoss):
    """A `FunctionLoss` whose function the subclass fixes (`function = staticmethod(f)`).

    Its config is the name, the reduction and the function's options: exactly the
    subclass's constructor arguments.
    """

    function = None

    def __init__(self, reduction, name, **options):
        super().__init__(type(self).function, reduction=reduction, name=name, **options)
        for key, value in options.items():
            setattr(self, key, value)

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction, **self._fn_kwargs}
