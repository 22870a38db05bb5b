"""Keras 2's `keras.layers.embeddings` path."""

from .core.embedding import Embedding as Embedding
