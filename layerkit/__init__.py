"""layerkit: the Keras API, rebuilt on PyTorch.

    from layerkit import models, layers
    model = models.Sequential([layers.Dense(16, activation="relu", input_shape=(10000,)),
                               layers.Dense(1, activation="sigmoid")])

Importing layerkit never changes what `import keras` means. To run Keras code unchanged,
`layerkit run script.py` (or a notebook), or `%load_ext layerkit` in IPython, turns on the
opt-in alias in `layerkit.compat.keras_alias`.
"""

from . import activations as activations
from . import applications as applications
from . import backend as backend
from . import callbacks as callbacks
from . import config as config
from . import constraints as constraints
from . import datasets as datasets
from . import initializers as initializers
from . import layers as layers
from . import losses as losses
from . import metrics as metrics
from . import models as models
from . import optimizers as optimizers
from . import preprocessing as preprocessing
from . import regularizers as regularizers
from . import saving as saving
from . import utils as utils
from . import wrappers as wrappers
from .compat.keras_alias import load_ipython_extension as load_ipython_extension
from .compat.keras_alias import unload_ipython_extension as unload_ipython_extension
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
