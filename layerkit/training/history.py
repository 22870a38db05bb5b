"""History (the callback `fit` returns) and HistoryDict, its `history` dict, which also
answers the other spellings of a metric.

Keras 2.0–2.2 wrote `metrics=['accuracy']` as 'acc' and `metrics=['mae']` as
'mean_absolute_error'; tf.keras 2.x keeps what the user wrote ('accuracy', 'mae'); Keras 3
logs 'learning_rate' where tf.keras logged 'lr'. Notes written for either read keys the
other does not write. The keys stay as the user spelled them, and a lookup of a missing
key tries the other spellings of the same metric (with the same `val_` / output-name
prefix). Only real keys show in `keys()`, iteration, `len`, `json.dump` and
`pd.DataFrame(history.history)`, since `__missing__` is consulted only by `[]`.
"""

from .callback import Callback

# spellings of one metric, in any Keras version
ALIAS_GROUPS = (
    ("acc", "accuracy"),
    ("mae", "mean_absolute_error"),
    ("mse", "mean_squared_error"),
    ("mape", "mean_absolute_percentage_error"),
    ("msle", "mean_squared_logarithmic_error"),
    ("kld", "kullback_leibler_divergence", "kl_divergence"),
    ("cosine", "cosine_proximity", "cosine_similarity"),
    ("ce", "crossentropy"),
    ("lr", "learning_rate"),
)


def other_spellings(key):
    """Keys naming the same metric as `key`, e.g. 'val_acc' → ['val_accuracy'].

    Args:
        key: a log key, possibly prefixed ('val_', an output name + '_').

    Returns:
        The alternative keys, longest matching spelling first.
    """
    found = []
    for group in ALIAS_GROUPS:
        for spelling in sorted(group, key=len, reverse=True):
            prefix = key[:-len(spelling)]
            if key.endswith(spelling) and (not prefix or prefix.endswith("_")):
                found.extend(prefix + other for other in group if other != spelling)
                break
    return found


class HistoryDict(dict):
    """A dict of per-epoch lists whose lookups also accept the metric's other spellings.

    Example:
        >>> h = HistoryDict(accuracy=[0.5], val_accuracy=[0.4])
        >>> h['acc'], h['val_acc'], list(h)
        ([0.5], [0.4], ['accuracy', 'val_accuracy'])
    """

    def __missing__(self, key):
        if isinstance(key, str):
            for other in other_spellings(key):
                if dict.__contains__(self, other):
                    return dict.__getitem__(self, other)
        raise KeyError(
            f"{key!r}: the history has no such key (nor another spelling of it); its keys "
            f"are {list(self)}"
        )

    def get(self, key, default=None):
        try:
            return self[key]
        except KeyError:
            return default


class History(Callback):
    """`history` maps each log key ('loss', 'acc', 'val_loss', ...) to per-epoch values.

    Attributes:
        history: dict of lists, in tf.keras key order (loss, metrics, then val_ keys); a
            `HistoryDict`, so `history['acc']` also finds 'accuracy' (Keras 2.0–2.2 notes).
        epoch: list of 0-based epoch indices.
        params: {'verbose', 'epochs', 'steps'} as in tf.keras.
    """

    def __init__(self):
        super().__init__()
        self.history = HistoryDict()
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        if self.model is not None:
            self.model.history = self
