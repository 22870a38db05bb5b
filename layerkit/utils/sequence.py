"""Sequence: the Keras base class for datasets that produce whole batches by index."""


class Sequence:
    """Base class for batch-producing datasets (`keras.utils.Sequence`).

    Implement `__getitem__(index)` returning one batch `(x, y)` or `(x, y, sample_weight)`
    and `__len__()` returning the number of batches. `fit` calls `on_epoch_end` after each
    epoch (e.g. to reshuffle). Safe to use with several workers: each batch is independent.

    Example:
        >>> class Batches(Sequence):
        ...     def __init__(self, x, y, batch_size): self.x, self.y, self.bs = x, y, batch_size
        ...     def __len__(self): return math.ceil(len(self.x) / self.bs)
        ...     def __getitem__(self, i):
        ...         s = slice(i * self.bs, (i + 1) * self.bs)
        ...         return self.x[s], self.y[s]
    """

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __len__")

    def on_epoch_end(self):
        """Called by fit at the end of every epoch."""

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]
