"""Utilities: seeds, numpy helpers, progress bar, file downloads."""

from ..config import set_random_seed as set_random_seed
from .numerical import normalize as normalize
from .numerical import to_categorical as to_categorical
from .progbar import Progbar as Progbar
from .sequence import Sequence as Sequence
from .file_utils import get_file as get_file
from .vis_utils import model_to_dot as model_to_dot
from .vis_utils import plot_model as plot_model
