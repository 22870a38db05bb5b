"""Keras 2.2's `keras.engine.training` path."""

from ..models.model import Model as Model
