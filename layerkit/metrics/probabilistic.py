"""Crossentropy, divergence and hinge metrics: running means of the matching losses."""

from layerkit.losses import crossentropy, hinges, probabilistic
from layerkit.metrics.metric import FixedFunctionMean, MeanMetricWrapper, dtype_name


class BinaryCrossentropy(MeanMetricWrapper):
    """Running mean binary crossentropy. Args: name, dtype, from_logits, label_smoothing."""

    def __init__(self, name="binary_crossentropy", dtype=None, from_logits=False,
                 label_smoothing=0):
        super().__init__(crossentropy.binary_crossentropy, name=name, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing)
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing

    def get_config(self):
        return {"name": self.name, "dtype": dtype_name(self.dtype),
                "from_logits": self.from_logits, "label_smoothing": self.label_smoothing}


class CategoricalCrossentropy(MeanMetricWrapper):
    """Running mean categorical crossentropy.

    Args:
        name, dtype: see `Metric`.
        from_logits, label_smoothing, axis: see `losses.categorical_crossentropy`.
    """

    def __init__(self, name="categorical_crossentropy", dtype=None, from_logits=False,
                 label_smoothing=0, axis=-1):
        super().__init__(crossentropy.categorical_crossentropy, name=name, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis

    def get_config(self):
        return {"name": self.name, "dtype": dtype_name(self.dtype),
                "from_logits": self.from_logits, "label_smoothing": self.label_smoothing,
                "axis": self.axis}


class SparseCategoricalCrossentropy(MeanMetricWrapper):
    """Running mean sparse categorical crossentropy.

    Args:
        name, dtype: see `Metric`.
        from_logits, ignore_class, axis: see `losses.sparse_categorical_crossentropy`.
    """

    def __init__(self, name="sparse_categorical_crossentropy", dtype=None, from_logits=False,
                 ignore_class=None, axis=-1):
        super().__init__(crossentropy.sparse_categorical_crossentropy, name=name, dtype=dtype,
                         from_logits=from_logits, ignore_class=ignore_class, axis=axis)
        self.from_logits = from_logits
        self.ignore_class = ignore_class
        self.axis = axis

    def get_config(self):
        return {"name": self.name, "dtype": dtype_name(self.dtype),
                "from_logits": self.from_logits, "ignore_class": self.ignore_class,
                "axis": self.axis}


class KLDivergence(FixedFunctionMean):
    """Running mean Kullback-Leibler divergence. Args: name, dtype."""

    function = staticmethod(probabilistic.kl_divergence)
    default_name = "kl_divergence"


class Poisson(FixedFunctionMean):
    """Running mean Poisson loss. Args: name, dtype."""

    function = staticmethod(probabilistic.poisson)
    default_name = "poisson"


class Hinge(FixedFunctionMean):
    """Running mean hinge loss. Args: name, dtype."""

    function = staticmethod(hinges.hinge)
    default_name = "hinge"


class SquaredHinge(FixedFunctionMean):
    """Running mean squared hinge loss. Args: name, dtype."""

    function = staticmethod(hinges.squared_hinge)
    default_name = "squared_hinge"


class CategoricalHinge(FixedFunctionMean):
    """Running mean categorical hinge loss. Args: name, dtype."""

    function = staticmethod(hinges.categorical_hinge)
    default_name = "categorical_hinge"
