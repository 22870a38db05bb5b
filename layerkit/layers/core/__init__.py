"""Core layers; also Keras 2's `keras.layers.core` path, which held Dropout, Flatten,
Reshape, Permute, RepeatVector and the spatial dropouts as well.

`Input` / `InputLayer` are plain attributes (the engine imports them); the others are
imported on first use (PEP 562), like `layerkit.layers`' own names.
"""

import importlib

from .input_layer import Input as Input
from .input_layer import InputLayer as InputLayer

# name -> the module that defines it, imported on first access
_WHERE = {
    "ActivityRegularization": "layerkit.layers.regularization.activity_regularization",
    "Dropout": "layerkit.layers.regularization.dropout",
    "SpatialDropout1D": "layerkit.layers.regularization.spatial_dropout1d",
    "SpatialDropout2D": "layerkit.layers.regularization.spatial_dropout2d",
    "SpatialDropout3D": "layerkit.layers.regularization.spatial_dropout3d",
    "Flatten": "layerkit.layers.reshaping.flatten",
    "Permute": "layerkit.layers.reshaping.permute",
    "RepeatVector": "layerkit.layers.reshaping.repeat_vector",
    "Reshape": "layerkit.layers.reshaping.reshape",
    "Activation": "layerkit.layers.core.activation",
    "Dense": "layerkit.layers.core.dense",
    "Embedding": "layerkit.layers.core.embedding",
    "Lambda": "layerkit.layers.core.lambda_layer",
    "Masking": "layerkit.layers.core.masking",
}
__all__ = sorted(["Input", "InputLayer", *_WHERE])


# Each lazy package calls importlib itself rather than a shared helper: the import-graph
# checks (tests/test_import_graph.py) then see the modules named in its table as its imports.
def __getattr__(name):
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_WHERE))
