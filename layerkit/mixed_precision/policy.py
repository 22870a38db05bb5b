"""Dtype policies with Keras's names: which dtype a layer's weights are kept in and which dtype
it computes in.

    layerkit.mixed_precision.set_global_policy("mixed_float16")   # or "mixed_bfloat16"

Who owns what: a `Policy` knows its two dtypes and how to run a layer's call under them
(`Policy.run`); `layers/layer.py` asks `for_layer(dtype)` once per layer at construction and
hands its call to the policy (no policy, no cost). The global policy is the one setting of
this module: layers created after `set_global_policy` take it, as in Keras.

How a mixed call runs: the layer computes under `torch.autocast` in the compute dtype (float16
or bfloat16) while its weights stay float32. Where an autocast region begins (the outermost
mixed layer: the model under a global mixed policy) its floating outputs are cast back to the
variable dtype, so losses and metrics are computed in float32 and the model's output is
float32, as Keras recommends for the last layer. A layer given `dtype="float32"` inside a
mixed model turns autocast off for its call and casts float16/bfloat16 inputs up.
"""

import torch

from .. import config
from ..graph import tensor_info

_MIXED = {"mixed_float16": torch.float16, "mixed_bfloat16": torch.bfloat16}
_PLAIN = ("float16", "bfloat16", "float32", "float64")
_LOW = (torch.float16, torch.bfloat16)


class Policy:
    """A dtype policy: `'float32'`, `'float64'`, `'float16'`, `'bfloat16'`,
    `'mixed_float16'` or `'mixed_bfloat16'` (Keras 3's `DTypePolicy`).

    Args:
        name: the policy name; None gives `config.floatx()`.

    Example:
        >>> Policy("mixed_bfloat16").compute_dtype, Policy("mixed_bfloat16").variable_dtype
        ('bfloat16', 'float32')
    """

    def __init__(self, name=None):
        name = config.floatx() if name is None else name
        if not isinstance(name, str) or (name not in _MIXED and not _is_dtype(name)):
            raise ValueError(
                f"Policy: expected one of {sorted(_MIXED) + list(_PLAIN)} (or another dtype "
                f"name such as 'int32'), received {name!r}"
            )
        self._name = name

    @property
    def name(self):
        return self._name

    @property
    def compute_dtype(self):
        """The dtype layers compute in, as a string (`'float16'` for `mixed_float16`)."""
        return self._name[len("mixed_"):] if self.is_mixed else self._name

    @property
    def variable_dtype(self):
        """The dtype weights are kept in (`'float32'` for the mixed policies)."""
        return "float32" if self.is_mixed else self._name

    @property
    def is_mixed(self):
        return self._name in _MIXED

    def run(self, call, inputs, *args, **kwargs):
        """Runs `call(inputs, *args, **kwargs)` (a layer's call) under this policy."""
        device_type = _device_type(inputs)
        if not torch.amp.is_autocast_available(device_type):  # meta tensors: shape inference
            return call(inputs, *args, **kwargs)
        if self.is_mixed:
            low = _MIXED[self._name]
            if torch.is_autocast_enabled(device_type) and \
                    torch.get_autocast_dtype(device_type) == low:
                return call(inputs, *args, **kwargs)  # inside a region already
            with torch.autocast(device_type, dtype=low):
                outputs = call(inputs, *args, **kwargs)
            return _cast_floating(outputs, torch.float32)
        dtype = config.standardize_dtype(self._name)
        inputs = _cast_floating(inputs, dtype, only=_LOW) if dtype not in _LOW else inputs
        if torch.is_autocast_enabled(device_type):
            with torch.autocast(device_type, enabled=False):
                return call(inputs, *args, **kwargs)
        return call(inputs, *args, **kwargs)

    def get_config(self):
        return {"name": self._name}

    @classmethod
    def from_config(cls, config_):
        return cls(**config_)

    def __eq__(self, other):
        return isinstance(other, Policy) and other.name == self.name

    def __hash__(self):
        return hash(self._name)

    def __repr__(self):
        return f'<Policy "{self._name}">'


DTypePolicy = Policy  # Keras 3's name


class _Global:
    policy = None  # None: plain floatx, layers pay nothing


_GLOBAL = _Global()


def set_global_policy(policy):
    """Sets the policy of layers created from now on (`'mixed_float16'`, `'mixed_bfloat16'`,
    `'float32'`, ... or a `Policy`; None resets to `config.floatx()`)."""
    if policy is None:
        _GLOBAL.policy = None
        return
    policy = policy if isinstance(policy, Policy) else Policy(policy)
    _GLOBAL.policy = None if policy.name == config.floatx() else policy


def global_policy():
    """The global `Policy` (`Policy(config.floatx())` unless one was set)."""
    return _GLOBAL.policy or Policy(config.floatx())


def for_layer(dtype):
    """The policy a layer created with `dtype=` follows, or None when it simply computes in
    its weights' dtype (no autocast, no casts: the common case, kept free).

    Args:
        dtype: the layer's `dtype` argument: None, a dtype name / torch dtype, a policy name,
            or a `Policy`.
    """
    if dtype is None:
        return _GLOBAL.policy
    if isinstance(dtype, Policy):
        return dtype
    if isinstance(dtype, str) and dtype in _MIXED:
        return Policy(dtype)
    if _GLOBAL.policy is not None and _GLOBAL.policy.is_mixed:
        # a plain dtype inside a mixed model: its own float island
        return Policy(str(config.standardize_dtype(dtype)).replace("torch.", ""))
    return None


def _is_dtype(name):
    try:
        config.standardize_dtype(name)
    except (ValueError, TypeError):
        return False
    return True


def _device_type(inputs):
    for tensor in inputs if isinstance(inputs, (list, tuple)) else [inputs]:
        if isinstance(tensor, torch.Tensor):
            return tensor.device.type
    return config.device().type


def _cast_floating(value, dtype, only=None):
    """Casts the floating tensors in `value` (a tensor, list, tuple or dict) to `dtype`;
    with `only`, just those whose dtype is in it. A mask and crossentropy logits travel
    with the cast copy (`graph.tensor_info`)."""
    if isinstance(value, torch.Tensor):
        if not value.is_floating_point() or value.dtype == dtype or \
                (only is not None and value.dtype not in only):
            return value
        cast = value.to(dtype)
        tensor_info.carry_logits(cast, value)  # read back in the cast tensor's dtype
        return tensor_info.set_mask(cast, tensor_info.get_mask(value))
    if isinstance(value, (list, tuple)):
        return type(value)(_cast_floating(v, dtype, only) for v in value)
    if isinstance(value, dict):
        return {k: _cast_floating(v, dtype, only) for k, v in value.items()}
    return value
