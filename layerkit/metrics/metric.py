"""The stateful Metric contract and the running means/sums most metrics are built on.

Who owns what: a `Metric` keeps its accumulators as plain torch tensors that follow the data
onto its device; `update_state` only does tensor math (no `.item()`, no CPU sync, no autograd
graph), and the engine reads `result()` when it prints. `Mean` is Keras 3's global per-sample
mean (Σv·w / Σw); `MeanMetricWrapper` averages a per-sample function with it.
"""

import torch

from layerkit import config
from layerkit.graph.tensor_info import get_mask, set_mask
from layerkit.losses.base import squeeze_or_expand_to_same_rank
from layerkit.utils.naming import to_snake_case, unique_name


class Metric:
    """Base class of stateful metrics.

    Subclasses create accumulators with `add_state` in `__init__`, and implement
    `update_state(...)` and `result()`.

    Args:
        name: the metric's name (the key in logs/History); defaults to the snake-cased class
            name, made unique (`auc`, `auc_1`, ...) as tf.keras does.
        dtype: dtype of the accumulators and the result (default floatx).
    """

    def __init__(self, name=None, dtype=None):
        self.name = name or unique_name(to_snake_case(type(self).__name__))
        self.dtype = config.standardize_dtype(dtype)
        self._state_names = []
        self._constant_names = []

    def add_state(self, name, shape=()):
        """Creates a zero accumulator `self.<name>` of the given shape."""
        setattr(self, name, torch.zeros(shape, dtype=self.dtype))
        self._state_names.append(name)

    def add_weight(self, name=None, shape=(), initializer="zeros", dtype=None, **kwargs):
        """Creates a state variable (tf.keras / Keras 3 spelling, for custom metrics).

        The variable is a tensor with `assign`, `assign_add` and `assign_sub`; the base
        `reset_state` zeroes it.

        Args:
            name: attribute-free name of the state (kept for messages and saving).
            shape: the state's shape.
            initializer: 'zeros', 'ones', or a number.
            dtype: defaults to the metric's dtype.

        Returns:
            The new `StateVariable`.
        """
        fill = {"zeros": 0.0, "ones": 1.0}.get(initializer, initializer)
        if not isinstance(fill, (int, float)):
            raise ValueError(f"{type(self).__name__}.add_weight(initializer={initializer!r}): "
                             "metric states start from 'zeros', 'ones' or a number")
        value = torch.full(tuple(shape), float(fill), dtype=config.standardize_dtype(
            dtype) if dtype is not None else self.dtype, device=config.device())
        variable = StateVariable(value)
        state = f"_state_{len(self._state_names)}_{name or 'variable'}"
        setattr(self, state, variable)
        self._state_names.append(state)
        return variable

    def add_variable(self, shape=(), initializer="zeros", dtype=None, aggregation="sum",
                     name=None):
        """Keras 3 spelling of `add_weight`."""
        return self.add_weight(name=name, shape=shape, initializer=initializer, dtype=dtype)

    def add_constant(self, name, value):
        """Stores a fixed tensor (thresholds, weights) that follows the data's device."""
        setattr(self, name, torch.as_tensor(value, dtype=self.dtype))
        self._constant_names.append(name)

    def state_names(self):
        """Names of the attributes holding the accumulators (what `reset_state` zeroes and
        a resume restores), in creation order."""
        return list(self._state_names)

    def follow(self, device):
        """Moves accumulators and constants to `device` (a no-op once they live there)."""
        for name in self._state_names + self._constant_names:
            state = getattr(self, name)
            if state.device != device:
                setattr(self, name, state.to(device))

    def convert(self, x, device=None, dtype=None):
        """Converts `x` to a detached tensor of this metric's dtype (or `dtype`), on `device`
        when given (for `update_state` implementations)."""
        t = torch.as_tensor(x, device=device).detach()  # a new tensor: nothing rides on it
        dtype = dtype or self.dtype
        return t if t.dtype == dtype else t.to(dtype)  # (.to of the same dtype: a dispatch)

    def values_and_weights(self, values, sample_weight):
        """Converts a batch of values and optional weights; brings the state to their device."""
        values = self.convert(values)
        self.follow(values.device)
        if sample_weight is not None:
            sample_weight = self.convert(sample_weight, values.device)
        return values, sample_weight

    def update_state(self, *args, **kwargs):
        """Accumulates statistics from one batch."""
        raise NotImplementedError(f"{type(self).__name__} must implement update_state")

    def result(self):
        """Returns the current value as a 0-dim tensor."""
        raise NotImplementedError(f"{type(self).__name__} must implement result")

    def reset_state(self):
        """Zeroes every accumulator (keeping its device)."""
        for name in self._state_names:
            getattr(self, name).zero_()

    def reset_states(self):
        """tf.keras spelling of `reset_state`."""
        self.reset_state()

    def __call__(self, *args, **kwargs):
        """Updates with one batch and returns the running result."""
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self):
        """Returns the constructor arguments."""
        return {"name": self.name, "dtype": dtype_name(self.dtype)}

    @classmethod
    def from_config(cls, config):
        """Rebuilds a metric from `get_config()`."""
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r}>"


class StateVariable(torch.Tensor):
    """A metric state created by `Metric.add_weight`: a tensor updated in place through the
    TensorFlow-style `assign`, `assign_add` and `assign_sub` (math on it gives plain
    tensors)."""

    __torch_function__ = torch._C._disabled_torch_function_impl

    def __new__(cls, value):
        return value.as_subclass(cls)

    @torch.no_grad()
    def assign(self, value):
        self.copy_(torch.as_tensor(value, dtype=self.dtype, device=self.device).detach())
        return self

    @torch.no_grad()
    def assign_add(self, value):
        self.add_(torch.as_tensor(value, device=self.device).detach().to(self.dtype))
        return self

    @torch.no_grad()
    def assign_sub(self, value):
        self.sub_(torch.as_tensor(value, device=self.device).detach().to(self.dtype))
        return self

    @property
    def value(self):
        return self

    def numpy(self):
        return torch.Tensor.numpy(self.detach().cpu())


def dtype_name(dtype):
    """`torch.float32` → `'float32'` (the form configs store)."""
    return str(dtype).replace("torch.", "")


def divide_no_nan(num, den):
    """`num / den`, with 0 where `den == 0` (as Keras's `divide_no_nan`)."""
    # Three ops (a metric's result() runs at every step of a custom train_step): where
    # den != 0 the quotient is num / den exactly, elsewhere +0, as the where-based form.
    return (num / den).masked_fill(den == 0, 0)


def _apply_mask(sample_weight, mask, dtype):
    """Folds a boolean mask into the weights (Keras 3 `apply_mask`, reduction 'sum')."""
    if mask is None:
        return sample_weight
    mask = mask.to(dtype)
    if sample_weight is None:
        return mask
    mask, sample_weight = squeeze_or_expand_to_same_rank(mask, sample_weight)
    return sample_weight * mask


def reduce_to_samplewise(values, sample_weight, reduce_fn):
    """Keras 3's `reduce_to_samplewise_values`: weights values, reduces them to `(batch,)`.

    Args:
        values: tensor `(batch, ...)` (or 0-dim).
        sample_weight: None or a tensor broadcastable to `values` after rank alignment.
        reduce_fn: `torch.mean` or `torch.sum`, used over the non-batch axes.

    Returns:
        `(values, sample_weight)`, both reduced to per-sample shape.
    """
    if sample_weight is not None:
        sample_weight = _apply_mask(sample_weight, get_mask(values), values.dtype)
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        weight_ndim, values_ndim = sample_weight.dim(), values.dim()
        if values_ndim > weight_ndim:
            values = reduce_fn(values, dim=tuple(range(weight_ndim, values_ndim)))
        sample_weight = sample_weight.broadcast_to(values.shape)
        values = values * sample_weight
        if weight_ndim > 1:
            sample_weight = reduce_fn(sample_weight, dim=tuple(range(1, weight_ndim)))
    if values.dim() > 1:
        values = reduce_fn(values, dim=tuple(range(1, values.dim())))
    return values, sample_weight


class Sum(Metric):
    """The (weighted) sum of all values seen.

    Args:
        name, dtype: see `Metric`.
    """

    def __init__(self, name="sum", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.add_state("total")

    @torch.no_grad()
    def update_state(self, values, sample_weight=None):
        """Adds `Σ values·sample_weight`."""
        values, sample_weight = self.values_and_weights(values, sample_weight)
        values, _ = reduce_to_samplewise(values, sample_weight, torch.sum)
        self.total += values.sum()

    def result(self):
        return self.total.clone()


class Mean(Metric):
    """The (weighted) mean of all values seen: `Σ v·w / Σ w`, one value per sample.

    Args:
        name, dtype: see `Metric`.

    Example:
        >>> m = Mean(); m.update_state([1, 3, 5, 7], sample_weight=[1, 1, 0, 0]); m.result()
        tensor(2.)
    """

    def __init__(self, name="mean", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.add_state("total")
        self.add_state("count")
        self._counted = _Counted(self.count)

    @torch.no_grad()
    def update_state(self, values, sample_weight=None):
        """Accumulates one batch of values (shape `(batch, ...)`, reduced per sample)."""
        self._accumulate(*self.values_and_weights(values, sample_weight))

    def _accumulate(self, values, sample_weight):
        values, sample_weight = reduce_to_samplewise(values, sample_weight, torch.mean)
        self.total += values.sum()
        if sample_weight is not None:
            self.count += sample_weight.sum()
            self._counted = _Counted(None)
        else:
            samples = values.shape[0] if values.dim() >= 1 else 1
            if torch.compiler.is_compiling():  # a graph cannot read in-place versions; its
                self.count += samples  # in-place add moves the count's version, so
                return  # result() takes the general path (the same numbers)
            known = self._counted.holds(self.count)
            self.count += samples
            self._counted = _Counted(self.count if known else None,
                                     known and (samples > 0 or self._counted.positive))

    def result(self):
        if self._counted.positive and self._counted.holds(self.count):
            return self.total / self.count  # what divide_no_nan gives for count > 0, one op
        return divide_no_nan(self.total, self.count)

    def reset_state(self):
        super().reset_state()
        self._counted = _Counted(self.count)


class _Counted:
    """What `Mean` knows of its `count` without reading it (a read would synchronise the
    device): that the tensor holds a sum of sample counts since its last reset (no weights),
    and whether one was positive. It holds for that tensor object at that in-place version
    only (torch's counter of in-place changes, the one autograd checks), so a count replaced
    or changed in place by anyone else (a restore, an all-reduce) is read the general way."""

    __slots__ = ("tensor", "version", "positive")

    def __init__(self, tensor, positive=False):
        self.tensor = tensor
        self.version = None if tensor is None else tensor._version
        self.positive = positive

    def holds(self, count):
        return count is self.tensor and count._version == self.version


class FunctionMean(Mean):
    """Averages a per-sample function `fn(y_true, y_pred, **kwargs)` over all samples seen.

    The base of the built-in metrics (`FixedFunctionMean`) and of `MeanMetricWrapper` (in
    `function_wrapper`, which also rebuilds a function named in a config).

    Args:
        fn: the function; returns values of shape `(batch, ...)`.
        name: defaults to `fn.__name__`.
        dtype: see `Metric`.
        **kwargs: passed to `fn` on every update.
    """

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        super().__init__(name=name or getattr(fn, "__name__", None), dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    @torch.no_grad()
    def update_state(self, y_true, y_pred, sample_weight=None):
        """Applies `fn` to one batch and accumulates the per-sample values.

        Args:
            y_true: targets `(batch, ...)`.
            y_pred: predictions `(batch, ...)`; a mask it carries masks samples.
            sample_weight: optional weights `(batch,)`.
        """
        values = self._fn(y_true, y_pred, **self._fn_kwargs)
        values_mask = get_mask(values)  # e.g. from ignore_class
        values, sample_weight = self.values_and_weights(values, sample_weight)
        if values_mask is not None:
            set_mask(values, values_mask)
        pred_mask = get_mask(y_pred) if isinstance(y_pred, torch.Tensor) else None
        sample_weight = _apply_mask(sample_weight, pred_mask, self.dtype)
        self._accumulate(values, sample_weight)

    def get_config(self):
        config = super().get_config()
        config["fn"] = getattr(self._fn, "__name__", repr(self._fn))
        config.update(self._fn_kwargs)
        return config


class FixedFunctionMean(FunctionMean):
    """A `FunctionMean` whose function the subclass fixes (`function = staticmethod(f)`).

    Its config is the name, the dtype and the function's options: exactly the subclass's
    constructor arguments.
    """

    function = None

    def __init__(self, name, dtype, **options):
        super().__init__(type(self).function, name=name, dtype=dtype, **options)
        for key, value in options.items():
            setattr(self, key, value)

    def get_config(self):
        return {"name": self.name, "dtype": dtype_name(self.dtype), **self._fn_kwargs}
