"""Keras 2.2's `keras.engine.sequential` path."""

from ..models.sequential import Sequential as Sequential
