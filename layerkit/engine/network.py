"""Keras 2.2's `keras.engine.network` path (`Network` is a functional model)."""

from ..models.functional import Functional

Network = Functional
