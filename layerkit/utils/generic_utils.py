"""Keras 2's `keras.utils.generic_utils` path (the parts layerkit has)."""

from .progbar import Progbar as Progbar


def to_list(x, allow_tuple=False):
    """`x` as a list: lists unchanged, tuples converted when `allow_tuple`, else `[x]`
    (Keras 2 `generic_utils.to_list`)."""
    if isinstance(x, list):
        return x
    if allow_tuple and isinstance(x, tuple):
        return list(x)
    return [x]


def __getattr__(name):
    from .missing import attribute_error

    raise attribute_error("layerkit.utils", name)
