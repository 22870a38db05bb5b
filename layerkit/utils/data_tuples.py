"""The batch tuples that the data iterator yields and that `Model.train_step` receives.

A batch is `x`, `(x,)`, `(x, y)` or `(x, y, sample_weight)` (Keras 3's convention);
`unpack_x_y_sample_weight` turns any of them into a triple, `pack_x_y_sample_weight` makes
the shortest tuple that holds what is given.
"""


def unpack_x_y_sample_weight(data):
    """Unpacks a batch into `(x, y, sample_weight)`, with None for what it lacks.

    Args:
        data: `x`, or a tuple `(x,)`, `(x, y)` or `(x, y, sample_weight)`.

    Returns:
        The triple `(x, y, sample_weight)`.

    Raises:
        ValueError: for a tuple of more than three elements.

    Example:
        >>> x, y, sample_weight = unpack_x_y_sample_weight((features, labels))
        >>> sample_weight is None
        True
    """
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if len(data) == 1:
        return data[0], None, None
    if len(data) == 2:
        return data[0], data[1], None
    if len(data) == 3:
        return data
    raise ValueError(
        "Data is expected to be in format `x`, `(x,)`, `(x, y)`, or `(x, y, sample_weight)`, "
        f"found a tuple of {len(data)} elements")


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    """The batch tuple `fit` passes to `train_step`: `(x,)`, `(x, y)` or
    `(x, y, sample_weight)` (x alone when it is a single array and y is None)."""
    if y is None:
        return (x,) if isinstance(x, (list, tuple)) else x
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)
