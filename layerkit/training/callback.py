"""Callback and CallbackList: the hooks `fit`, `evaluate` and `predict` call, Keras's names.

Who owns what: the trainer builds one `CallbackList` per call and calls its hooks in
tf.keras order; the list hands every callback the model (`set_model`), the loop's
parameters (`set_params`) and the trainer's `TrainingState` (`set_training_state`: epoch,
step, latest logs, `snapshot()` / `restore()` for checkpoints). A callback reads and
restores training through those, never through private attributes of the model. They live
in `training` because the trainer installs `History` and `ProgbarLogger` itself;
`layerkit.callbacks` re-exports them with the other callbacks.
"""


class Callback:
    """Base class: override any `on_*` hook. `self.model`, `self.params` and
    `self.training_state` (a `training.state.TrainingState`) are set by fit.

    Batch hooks receive `logs` with the running epoch means so far; epoch hooks receive the
    epoch's final values (`loss`, metrics, `val_*`).
    """

    training_state = None  # a Callback subclass that skips __init__ still has one

    def __init__(self):
        self.model = None
        self.params = {}
        self.training_state = None

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def set_training_state(self, state):
        """Receives the trainer's `TrainingState` (epoch, step, snapshot / restore)."""
        self.training_state = state

    def on_train_begin(self, logs=None): pass
    def on_train_end(self, logs=None): pass
    def on_epoch_begin(self, epoch, logs=None): pass
    def on_epoch_end(self, epoch, logs=None): pass

    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs=logs)  # Keras: the old name is the default

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs=logs)

    def on_test_begin(self, logs=None): pass
    def on_test_end(self, logs=None): pass
    def on_test_batch_begin(self, batch, logs=None): pass
    def on_test_batch_end(self, batch, logs=None): pass
    def on_predict_begin(self, logs=None): pass
    def on_predict_end(self, logs=None): pass
    def on_predict_batch_begin(self, batch, logs=None): pass
    def on_predict_batch_end(self, batch, logs=None): pass

    # tf.keras 1.x-era names of the training batch hooks: called by the default
    # on_train_batch_begin/end, so a callback overriding both gets each batch once
    def on_batch_begin(self, batch, logs=None): pass
    def on_batch_end(self, batch, logs=None): pass


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
        training_state: the trainer's `TrainingState`, given to each callback.
    """

    def __init__(self, callbacks=None, model=None, params=None, training_state=None):
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
        if training_state is not None:
            self.set_training_state(training_state)

    def append(self, callback):
        self.callbacks.append(callback)

    def set_model(self, model):
        for cb in self.callbacks:
            cb.set_model(model)

    def set_params(self, params):
        for cb in self.callbacks:
            cb.set_params(params)

    def set_training_state(self, state):
        for cb in self.callbacks:
            cb.set_training_state(state)

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
