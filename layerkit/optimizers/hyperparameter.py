"""A float that remembers where it came from, so `K.set_value(opt.lr, 1e-4)` can write back.

tf.keras 2.x optimizers hold their hyperparameters in variables: `K.get_value(opt.lr)`,
`K.set_value(opt.lr, v)` and `opt.lr.assign(v)` all work. layerkit keeps plain floats; the
`learning_rate` property hands out this float subclass, which reads like a float everywhere
(arithmetic, comparisons, `float()`, json) and writes through `assign` to its optimizer.
"""


class HyperParameter(float):
    """A read-only float snapshot plus `assign(value)` that sets `owner.<attribute>`.

    Args:
        value: the current value.
        owner: the object holding the setting (an optimizer).
        attribute: the settable attribute name on `owner` (`'learning_rate'`).

    Example:
        >>> opt = SGD(learning_rate=0.1)
        >>> opt.lr.assign(0.01); float(opt.lr)
        0.01
    """

    def __new__(cls, value, owner, attribute):
        self = super().__new__(cls, value)
        self.owner = owner
        self.attribute = attribute
        return self

    def assign(self, value):
        """Sets the owner's setting (effective at the next step); returns the new value."""
        setattr(self.owner, self.attribute, value)
        return getattr(self.owner, self.attribute)

    def numpy(self):
        """The value as a plain float (tf.Variable's `.numpy()`)."""
        return float(self)

    def __reduce__(self):  # pickles / deep-copies as the plain float it shows
        return (float, (float(self),))
