"""Keras 2's `keras.layers.noise` path."""

from .regularization.gaussian_dropout import GaussianDropout as GaussianDropout
from .regularization.gaussian_noise import GaussianNoise as GaussianNoise
