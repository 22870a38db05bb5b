"""layerkit: the Keras API, rebuilt on PyTorch.

    from layerkit import models, layers
    model = models.Sequential([layers.Dense(16, activation="relu", input_shape=(10000,)),
                               layers.Dense(1, activation="sigmoid")])

Importing layerkit never changes what `import keras` means. To run Keras code unchanged,
`layerkit run script.py` (or a notebook), or `%load_ext layerkit` in IPython, turns on the
opt-in alias in `layerkit.compat.keras_alias`.

Who owns what: this module imports the engine at once (the ground floor, backend, layers,
losses, metrics, optimizers, models, saving) and installs saving's functions in
`layerkit.models`. The edges (`applications`, `callbacks`, `compat`, `datasets`,
`distribute`, `mixed_precision`, `preprocessing`, `visualization`, `wrappers`) load on
first access through the module `__getattr__` below (PEP 562): `layerkit.datasets.mnist`, `from layerkit import callbacks`
and `import layerkit.applications` all work, `dir(layerkit)` lists them, and
`import layerkit` does not pay for them.
"""

import importlib

from . import activations as activations
from . import backend as backend
from . import config as config
from . import constraints as constraints
from . import initializers as initializers
from . import layers as layers
from . import losses as losses
from . import metrics as metrics
from . import models as models
from . import optimizers as optimizers
from . import regularizers as regularizers
from . import saving as saving
from . import utils as utils
from .backend.gradient_tape import GradientTape as GradientTape
from .config import set_random_seed as set_random_seed
from .layers import Input as Input
from .models import Model as Model
from .models import Sequential as Sequential

# keras.models.load_model & co.: saving sits above models, so this public face installs
# its functions in `layerkit.models` (models never imports saving).
models.load_model = saving.load_model
models.save_model = saving.save_model
models.model_from_json = saving.model_from_json
models.model_from_config = saving.model_from_config

__version__ = "0.1.0"

# Subpackages imported on first access.
_LAZY_MODULES = ("applications", "callbacks", "compat", "datasets", "distribute",
                 "mixed_precision", "preprocessing", "visualization", "wrappers")
# Names whose module is imported on first access: name -> (module, attribute).
_LAZY_NAMES = {
    # IPython's `%load_ext layerkit` looks these up on the package
    "load_ipython_extension": ("compat.keras_alias", "load_ipython_extension"),
    "unload_ipython_extension": ("compat.keras_alias", "unload_ipython_extension"),
}


def __getattr__(name):
    """Imports an edge subpackage (or a name from one) the first time it is asked for."""
    if name in _LAZY_MODULES:
        return importlib.import_module(f"{__name__}.{name}")  # also sets the attribute
    if name in _LAZY_NAMES:
        module, attribute = _LAZY_NAMES[name]
        value = getattr(importlib.import_module(f"{__name__}.{module}"), attribute)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY_MODULES) | set(_LAZY_NAMES))
