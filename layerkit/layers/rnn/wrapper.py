"""Layer (de)serialization for the wrappers (Bidirectional, TimeDistributed).

A wrapped layer is stored as Keras does: `{'class_name': 'LSTM', 'config': {...}}`; the
class comes from the serialization registry (or `custom_objects`).
"""

from ...utils import serialization


def serialize_layer(layer):
    """Returns `{'class_name': ..., 'config': layer.get_config()}`."""
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def deserialize_layer(config, custom_objects=None):
    """Rebuilds a layer from `serialize_layer`'s dict (a Layer instance is returned as is),
    through the one serialization path (`utils.serialization.deserialize`).

    Raises:
        ValueError: for an unknown class name (with the closest valid names).
    """
    return serialization.deserialize(config, "layers", custom_objects)
