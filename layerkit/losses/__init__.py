"""Losses: per-sample functions, `Loss` classes, lookup by name, one-time target checks."""

from .base import Loss as Loss
from .base import reduce_weighted_values as reduce_weighted_values
from .base import squeeze_or_expand_to_same_rank as squeeze_or_expand_to_same_rank
from .crossentropy import BinaryCrossentropy as BinaryCrossentropy
from .crossentropy import CategoricalCrossentropy as CategoricalCrossentropy
from .crossentropy import SparseCategoricalCrossentropy as SparseCategoricalCrossentropy
from .crossentropy import binary_crossentropy as binary_crossentropy
from .crossentropy import categorical_crossentropy as categorical_crossentropy
from .crossentropy import sparse_categorical_crossentropy as sparse_categorical_crossentropy
from .function_wrapper import LossFunctionWrapper as LossFunctionWrapper
from .hinges import CategoricalHinge as CategoricalHinge
from .hinges import Hinge as Hinge
from .hinges import SquaredHinge as SquaredHinge
from .hinges import categorical_hinge as categorical_hinge
from .hinges import hinge as hinge
from .hinges import squared_hinge as squared_hinge
from .lookup import classify_targets as classify_targets
from .lookup import deserialize as deserialize
from .lookup import get as get
from .lookup import resolve as resolve
from .lookup import serialize as serialize
from .probabilistic import KLDivergence as KLDivergence
from .probabilistic import Poisson as Poisson
from .probabilistic import kl_divergence as kl_divergence
from .probabilistic import poisson as poisson
from .regression import CosineSimilarity as CosineSimilarity
from .regression import Huber as Huber
from .regression import LogCosh as LogCosh
from .regression import MeanAbsoluteError as MeanAbsoluteError
from .regression import MeanAbsolutePercentageError as MeanAbsolutePercentageError
from .regression import MeanSquaredError as MeanSquaredError
from .regression import MeanSquaredLogarithmicError as MeanSquaredLogarithmicError
from .regression import cosine_similarity as cosine_similarity
from .regression import huber as huber
from .regression import log_cosh as log_cosh
from .regression import mean_absolute_error as mean_absolute_error
from .regression import mean_absolute_percentage_error as mean_absolute_percentage_error
from .regression import mean_squared_error as mean_squared_error
from .regression import mean_squared_logarithmic_error as mean_squared_logarithmic_error
from .targets import check_targets as check_targets

# tf.keras / Keras 2 aliases.
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kullback_leibler_divergence = kl_divergence
logcosh = log_cosh
bce = BCE = binary_crossentropy
cosine = cosine_proximity = cosine_similarity  # Keras 2.2: -sum(l2norm(t) * l2norm(p))
