"""Normalization layers: batch and layer normalization."""

from .batch_normalization import BatchNormalization as BatchNormalization
from .layer_normalization import LayerNormalization as LayerNormalization
