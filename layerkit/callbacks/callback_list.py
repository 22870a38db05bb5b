"""CallbackList: calls every callback's hook in order, and says which hooks need batch logs."""

from .callback import Callback

_BATCH_HOOKS = (
    "on_train_batch_begin", "on_train_batch_end", "on_batch_begin", "on_batch_end",
    "on_test_batch_begin", "on_test_batch_end", "on_predict_batch_begin",
    "on_predict_batch_end",
)


class CallbackList:
    """A container that forwards every hook to each of `callbacks`.

    Args:
        callbacks: list of Callback instances.
        model: the model, given to each callback.
        params: dict with 'verbose', 'epochs', 'steps'.
    """

    def __init__(self, callbacks=None, model=None, params=None):
        self.callbacks = list(callbacks or [])
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(
                    f"callbacks must be layerkit.callbacks.Callback instances, received "
                    f"{type(cb).__name__}"
                )
        if model is not None:
            self.set_model(model)
        if params is not None:
            self.set_params(params)

    def append(self, callback):
        self.callbacks.append(callback)

    def set_model(self, model):
        for cb in self.callbacks:
            cb.set_model(model)

    def set_params(self, params):
        for cb in self.callbacks:
            cb.set_params(params)

    def wants_batch_hooks(self, hook):
        """True if some callback overrides `hook` (so the engine must compute batch logs)."""
        return any(_overrides(cb, hook) for cb in self.callbacks)

    def __getattr__(self, hook):
        if not hook.startswith("on_"):
            raise AttributeError(hook)

        takes_index = "epoch" in hook or "batch" in hook  # on_epoch_end(epoch, logs)

        def call_all(*args, logs=None):
            index, rest = (args[:1], args[1:]) if takes_index else ((), args)
            if rest:
                logs = rest[0]
            # Keras passes logs positionally and never None, so `lambda logs: ...` works
            logs = {} if logs is None else logs
            for cb in self.callbacks:
                getattr(cb, hook)(*index, logs)

        self.__dict__[hook] = call_all  # built once per hook (batch hooks run every step)
        return call_all


def _overrides(callback, hook):
    if hook in vars(callback):  # LambdaCallback sets hooks on the instance
        return True
    return getattr(type(callback), hook) is not getattr(Callback, hook)
