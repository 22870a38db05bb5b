"""Keras 2's `keras.layers.merge` path: the merge layers and their functional forms."""

from .merging.add import Add as Add
from .merging.add import add as add
from .merging.average import Average as Average
from .merging.average import average as average
from .merging.concatenate import Concatenate as Concatenate
from .merging.concatenate import concatenate as concatenate
from .merging.dot import Dot as Dot
from .merging.dot import dot as dot
from .merging.maximum import Maximum as Maximum
from .merging.maximum import maximum as maximum
from .merging.minimum import Minimum as Minimum
from .merging.minimum import minimum as minimum
from .merging.multiply import Multiply as Multiply
from .merging.multiply import multiply as multiply
from .merging.subtract import Subtract as Subtract
from .merging.subtract import subtract as subtract
