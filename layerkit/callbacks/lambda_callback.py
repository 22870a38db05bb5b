"""LambdaCallback: a callback built from plain functions."""

from ..training.callback import Callback


class LambdaCallback(Callback):
    """Calls the given functions at the matching hooks.

    Args:
        on_epoch_begin / on_epoch_end: f(epoch, logs).
        on_batch_begin / on_batch_end: f(batch, logs) (training batches).
        on_train_begin / on_train_end: f(logs).

    Example:
        >>> LambdaCallback(on_epoch_end=lambda epoch, logs: print(epoch, logs["loss"]))
    """

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_batch_begin=None,
                 on_batch_end=None, on_train_begin=None, on_train_end=None, **kwargs):
        super().__init__()
        hooks = dict(on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end,
                     on_train_batch_begin=on_batch_begin, on_train_batch_end=on_batch_end,
                     on_train_begin=on_train_begin, on_train_end=on_train_end, **kwargs)
        for hook, fn in hooks.items():
            if fn is not None:
                if not hook.startswith("on_") or not hasattr(Callback, hook):
                    raise ValueError(f"LambdaCallback: unknown hook {hook!r}")
                setattr(self, hook, fn)
