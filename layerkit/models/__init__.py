"""Models: Model (the base) and Sequential."""

from .functional import Functional as Functional
from .model import Model as Model
from .sequential import Sequential as Sequential

# keras.models.load_model & co.; saving imports models only inside functions, so no cycle.
from ..saving import load_model as load_model  # noqa: E402
from ..saving import model_from_json as model_from_json  # noqa: E402
from ..saving import save_model as save_model  # noqa: E402
from ..saving import model_from_config as model_from_config  # noqa: E402
from ..utils.missing import attribute_error as _attribute_error  # noqa: E402


def __getattr__(name):
    """Keras model functions layerkit lacks (`clone_model`, ...) say what to use instead."""
    raise _attribute_error(__name__, name)
