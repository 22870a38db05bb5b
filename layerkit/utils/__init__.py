"""Utilities: seeds, numpy helpers, progress bar, file downloads.

Who owns what: the small helpers the engine itself uses are imported at once; downloads
(`get_file`), model drawing (`plot_model`, `model_to_dot`) and Keras 2's module paths
(`data_utils`, `generic_utils`, `io_utils`, `np_utils`) load on first access (PEP 562), so
`import layerkit` does not pay for them.
"""

import importlib

from ..config import set_random_seed as set_random_seed
from .numerical import normalize as normalize
from .numerical import to_categorical as to_categorical
from .progbar import Progbar as Progbar
from .sequence import Sequence as Sequence
from .data_tuples import pack_x_y_sample_weight as pack_x_y_sample_weight
from .data_tuples import unpack_x_y_sample_weight as unpack_x_y_sample_weight

# Keras 2 module paths, imported on first access.
_LAZY_MODULES = ("data_utils", "generic_utils", "io_utils", "np_utils")
# Names whose module is imported on first access: name -> module.
_LAZY_NAMES = {"get_file": "file_utils", "model_to_dot": "vis_utils", "plot_model": "vis_utils"}


def __getattr__(name):
    """Imports a lazily loaded name; Keras utilities layerkit lacks (`multi_gpu_model`,
    ...) raise an error saying what to use instead."""
    if name in _LAZY_MODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name in _LAZY_NAMES:
        value = getattr(importlib.import_module(f"{__name__}.{_LAZY_NAMES[name]}"), name)
        globals()[name] = value
        return value
    from .missing import attribute_error

    raise attribute_error(__name__, name)


def __dir__():
    return sorted(set(globals()) | set(_LAZY_MODULES) | set(_LAZY_NAMES))
