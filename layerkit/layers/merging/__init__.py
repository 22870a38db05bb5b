"""Merging layers: combine a list of tensors into one."""

from .add import Add as Add
from .add import add as add
from .average import Average as Average
from .average import average as average
from .concatenate import Concatenate as Concatenate
from .concatenate import concatenate as concatenate
from .dot import Dot as Dot
from .dot import dot as dot
from .maximum import Maximum as Maximum
from .maximum import maximum as maximum
from .minimum import Minimum as Minimum
from .minimum import minimum as minimum
from .multiply import Multiply as Multiply
from .multiply import multiply as multiply
from .subtract import Subtract as Subtract
from .subtract import subtract as subtract
