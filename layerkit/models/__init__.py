"""Models: Model (the base) and Sequential."""

from .model import Model as Model
from .sequential import Sequential as Sequential
