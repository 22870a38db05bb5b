"""Wrappers that let layerkit models serve as scikit-learn estimators.

`layerkit.wrappers.scikit_learn` is imported on first access, so `import layerkit` does not
pay for scikit-learn (and the scipy and pandas it pulls in).
"""

import importlib

__all__ = ["scikit_learn"]


def __getattr__(name):
    if name == "scikit_learn":
        return importlib.import_module(".scikit_learn", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
