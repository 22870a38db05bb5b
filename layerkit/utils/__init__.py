"""Utilities: seeds, numpy helpers, progress bar, file downloads."""

from ..config import set_random_seed as set_random_seed
from .numerical import normalize as normalize
from .numerical import to_categorical as to_categorical
from .progbar import Progbar as Progbar
from .sequence import Sequence as Sequence
from .data_tuples import pack_x_y_sample_weight as pack_x_y_sample_weight
from .data_tuples import unpack_x_y_sample_weight as unpack_x_y_sample_weight
from .file_utils import get_file as get_file
from . import data_utils as data_utils  # noqa: E402 (Keras 2 module paths)
from . import generic_utils as generic_utils  # noqa: E402
from . import io_utils as io_utils  # noqa: E402
from . import np_utils as np_utils  # noqa: E402
from .vis_utils import model_to_dot as model_to_dot
from .vis_utils import plot_model as plot_model


def __getattr__(name):
    """Keras utilities layerkit lacks (`multi_gpu_model`, ...) say what to use instead."""
    from .missing import attribute_error

    raise attribute_error(__name__, name)
