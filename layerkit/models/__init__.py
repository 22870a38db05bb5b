"""Models: Model (the base) and Sequential."""

from .functional import Functional as Functional
from .model import Model as Model
from .sequential import Sequential as Sequential

# keras.models.load_model & co.; saving imports models only inside functions, so no cycle.
from ..saving import load_model as load_model  # noqa: E402
from ..saving import model_from_json as model_from_json  # noqa: E402
from ..saving import save_model as save_model  # noqa: E402
