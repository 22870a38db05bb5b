"""Layer (de)serialization for the wrappers (Bidirectional, TimeDistributed).

A wrapped layer is stored as Keras does: `{'class_name': 'LSTM', 'config': {...}}`. The
class is looked up among the public layers of `layerkit.layers`, this family and
`custom_objects`.
"""

from ...utils.registry import resolve
from ..layer import Layer


def serialize_layer(layer):
    """Returns `{'class_name': ..., 'config': layer.get_config()}`."""
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def deserialize_layer(config, custom_objects=None):
    """Rebuilds a layer from `serialize_layer`'s dict (a Layer instance is returned as is).

    Raises:
        ValueError: for an unknown class name (the message lists the known ones).
    """
    if isinstance(config, Layer):
        return config
    cls = resolve(config["class_name"], _layer_classes(), "layer", custom_objects,
                  instantiate=False)
    return cls.from_config(dict(config.get("config") or {}))


def _layer_classes():
    # Imported here: layerkit.layers imports this family, so a top-level import would cycle.
    from ... import layers as public
    from . import gru, lstm, simple_rnn

    table = {name: obj for name, obj in vars(public).items()
             if isinstance(obj, type) and issubclass(obj, Layer)}
    table.update(SimpleRNN=simple_rnn.SimpleRNN, LSTM=lstm.LSTM, GRU=gru.GRU)
    return table
