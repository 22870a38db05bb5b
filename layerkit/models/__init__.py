"""Models: Model (the base), Sequential and Functional.

`load_model`, `save_model`, `model_from_json` and `model_from_config` (Keras's
`keras.models.*`) live in `layerkit.saving`, a floor above models; the public face
(`layerkit/__init__.py`) installs them here, so models never imports saving.
"""

from .functional import Functional as Functional
from .model import Model as Model
from .sequential import Sequential as Sequential
from ..utils.missing import attribute_error as _attribute_error  # noqa: E402


def __getattr__(name):
    """Keras model functions layerkit lacks (`clone_model`, ...) say what to use instead."""
    raise _attribute_error(__name__, name)
