"""Models: Model (the base) and Sequential."""

from .functional import Functional as Functional
from .model import Model as Model
from .sequential import Sequential as Sequential
