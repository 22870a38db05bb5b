"""Metrics: stateful running metrics, per-sample functions, lookup and compile-time resolve."""

from layerkit.losses import binary_crossentropy as binary_crossentropy
from layerkit.losses import categorical_crossentropy as categorical_crossentropy
from layerkit.losses import categorical_hinge as categorical_hinge
from layerkit.losses import hinge as hinge
from layerkit.losses import huber as huber
from layerkit.losses import kl_divergence as kl_divergence
from layerkit.losses import log_cosh as log_cosh
from layerkit.losses import mean_absolute_error as mean_absolute_error
from layerkit.losses import mean_absolute_percentage_error as mean_absolute_percentage_error
from layerkit.losses import mean_squared_error as mean_squared_error
from layerkit.losses import mean_squared_logarithmic_error as mean_squared_logarithmic_error
from layerkit.losses import poisson as poisson
from layerkit.losses import sparse_categorical_crossentropy as sparse_categorical_crossentropy
from layerkit.losses import squared_hinge as squared_hinge

from .accuracy_metrics import Accuracy as Accuracy
from .accuracy_metrics import BinaryAccuracy as BinaryAccuracy
from .accuracy_metrics import CategoricalAccuracy as CategoricalAccuracy
from .accuracy_metrics import SparseCategoricalAccuracy as SparseCategoricalAccuracy
from .accuracy_metrics import SparseTopKCategoricalAccuracy as SparseTopKCategoricalAccuracy
from .accuracy_metrics import TopKCategoricalAccuracy as TopKCategoricalAccuracy
from .accuracy_metrics import accuracy as accuracy
from .accuracy_metrics import binary_accuracy as binary_accuracy
from .accuracy_metrics import categorical_accuracy as categorical_accuracy
from .accuracy_metrics import sparse_categorical_accuracy as sparse_categorical_accuracy
from .accuracy_metrics import sparse_top_k_categorical_accuracy as sparse_top_k_categorical_accuracy
from .accuracy_metrics import top_k_categorical_accuracy as top_k_categorical_accuracy
from .auc import AUC as AUC
from .confusion import Precision as Precision
from .confusion import Recall as Recall
from .function_wrapper import MeanMetricWrapper as MeanMetricWrapper
from .lookup import deserialize as deserialize
from .lookup import get as get
from .lookup import resolve as resolve
from .lookup import serialize as serialize
from .metric import Mean as Mean
from .metric import Metric as Metric
from .metric import Sum as Sum
from .probabilistic import BinaryCrossentropy as BinaryCrossentropy
from .probabilistic import CategoricalCrossentropy as CategoricalCrossentropy
from .probabilistic import CategoricalHinge as CategoricalHinge
from .probabilistic import Hinge as Hinge
from .probabilistic import KLDivergence as KLDivergence
from .probabilistic import Poisson as Poisson
from .probabilistic import SparseCategoricalCrossentropy as SparseCategoricalCrossentropy
from .probabilistic import SquaredHinge as SquaredHinge
from .regression import CosineSimilarity as CosineSimilarity
from .regression import LogCoshError as LogCoshError
from .regression import MeanAbsoluteError as MeanAbsoluteError
from .regression import MeanAbsolutePercentageError as MeanAbsolutePercentageError
from .regression import MeanSquaredError as MeanSquaredError
from .regression import MeanSquaredLogarithmicError as MeanSquaredLogarithmicError
from .regression import RootMeanSquaredError as RootMeanSquaredError

# tf.keras / Keras 2 function aliases.
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kullback_leibler_divergence = kl_divergence
logcosh = log_cosh
acc = accuracy
