"""Mixed precision with Keras's names: dtype policies and dynamic loss scaling.

Who owns what: `policy` holds `Policy`, the global policy and how a layer's call runs under a
policy (torch.autocast in the compute dtype, float32 weights, float32 outputs at the edge of an
autocast region); `loss_scale_optimizer` holds `LossScaleOptimizer`, Keras 3's dynamic loss
scaling for float16.

Example:
    >>> from layerkit import mixed_precision
    >>> mixed_precision.set_global_policy("mixed_bfloat16")
"""

from .policy import DTypePolicy as DTypePolicy
from .policy import Policy as Policy
from .policy import global_policy as global_policy
from .policy import set_global_policy as set_global_policy


def __getattr__(name):
    # Layers import `policy` from here; the optimizer wrapper loads when first asked for, so
    # the layer floor never imports the optimizers.
    if name == "LossScaleOptimizer":
        from .loss_scale_optimizer import LossScaleOptimizer

        return LossScaleOptimizer
    raise AttributeError(f"module 'layerkit.mixed_precision' has no attribute {name!r}")
