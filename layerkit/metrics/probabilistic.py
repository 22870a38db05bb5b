"""Crossentropy, divergence and hinge metrics: running means of the matching losses."""

from layerkit.losses import crossentropy, hinges, probabilistic
from layerkit.metrics.metric import FixedFunctionMean


class BinaryCrossentropy(FixedFunctionMean):
    """Running mean binary crossentropy. Args: name, dtype, from_logits, label_smoothing."""

    function = staticmethod(crossentropy.binary_crossentropy)

    def __init__(self, name="binary_crossentropy", dtype=None, from_logits=False,
                 label_smoothing=0):
        super().__init__(name, dtype, from_logits=from_logits, label_smoothing=label_smoothing)


class CategoricalCrossentropy(FixedFunctionMean):
    """Running mean categorical crossentropy.

    Args:
        name, dtype: see `Metric`.
        from_logits, label_smoothing, axis: see `losses.categorical_crossentropy`.
    """

    function = staticmethod(crossentropy.categorical_crossentropy)

    def __init__(self, name="categorical_crossentropy", dtype=None, from_logits=False,
                 label_smoothing=0, axis=-1):
        super().__init__(name, dtype, from_logits=from_logits, label_smoothing=label_smoothing,
                         axis=axis)


class SparseCategoricalCrossentropy(FixedFunctionMean):
    """Running mean sparse categorical crossentropy.

    Args:
        name, dtype: see `Metric`.
        from_logits, ignore_class, axis: see `losses.sparse_categorical_crossentropy`.
    """

    function = staticmethod(crossentropy.sparse_categorical_crossentropy)

    def __init__(self, name="sparse_categorical_crossentropy", dtype=None, from_logits=False,
                 ignore_class=None, axis=-1):
        super().__init__(name, dtype, from_logits=from_logits, ignore_class=ignore_class,
                         axis=axis)


class KLDivergence(FixedFunctionMean):
    """Running mean Kullback-Leibler divergence. Args: name, dtype."""

    function = staticmethod(probabilistic.kl_divergence)

    def __init__(self, name="kl_divergence", dtype=None):
        super().__init__(name, dtype)


class Poisson(FixedFunctionMean):
    """Running mean Poisson loss. Args: name, dtype."""

    function = staticmethod(probabilistic.poisson)

    def __init__(self, name="poisson", dtype=None):
        super().__init__(name, dtype)


class Hinge(FixedFunctionMean):
    """Running mean hinge loss. Args: name, dtype."""

    function = staticmethod(hinges.hinge)

    def __init__(self, name="hinge", dtype=None):
        super().__init__(name, dtype)


class SquaredHinge(FixedFunctionMean):
    """Running mean squared hinge loss. Args: name, dtype."""

    function = staticmethod(hinges.squared_hinge)

    def __init__(self, name="squared_hinge", dtype=None):
        super().__init__(name, dtype)


class CategoricalHinge(FixedFunctionMean):
    """Running mean categorical hinge loss. Args: name, dtype."""

    function = staticmethod(hinges.categorical_hinge)

    def __init__(self, name="categorical_hinge", dtype=None):
        super().__init__(name, dtype)
