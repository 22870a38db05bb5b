"""Wrappers that let layerkit models serve as scikit-learn estimators."""

from . import scikit_learn as scikit_learn
