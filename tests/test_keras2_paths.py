"""Every Keras 2 import path in tests/data/keras2_paths.txt resolves, to the same objects as
layerkit's own namespaces; Keras names layerkit lacks raise an error saying what to use."""

import importlib
from pathlib import Path

import pytest

from layerkit import layers
from layerkit.utils.missing import ATTRIBUTES, NotInLayerkitError

PATHS = Path(__file__).parent / "data" / "keras2_paths.txt"


def _entries():
    for line in PATHS.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            module, names = line.split(":")
            yield module.strip(), names.split()


ENTRIES = dict(_entries())


@pytest.mark.parametrize("module", sorted(ENTRIES))
def test_every_name_imports(module):
    mod = importlib.import_module(module)
    missing = [name for name in ENTRIES[module] if not hasattr(mod, name)]
    assert not missing, f"{module} lacks {missing}"


@pytest.mark.parametrize("module", sorted(m for m in ENTRIES if m.startswith("layerkit.layers.")
                                          or m.startswith("layerkit.engine")))
def test_layer_paths_give_the_same_objects(module):
    mod = importlib.import_module(module)
    for name in ENTRIES[module]:
        if hasattr(layers, name):
            assert getattr(mod, name) is getattr(layers, name), f"{module}.{name}"


def test_from_import_statements_of_the_notes():
    from layerkit.layers.convolutional import Conv2D, MaxPooling2D  # noqa: F401
    from layerkit.layers.core import Dense, Reshape  # noqa: F401
    from layerkit.layers.embeddings import Embedding  # noqa: F401
    from layerkit.utils import np_utils
    from layerkit.utils.np_utils import to_categorical

    assert np_utils.to_categorical is to_categorical


@pytest.mark.parametrize("module,name", sorted(
    (m, n) for m, names in ATTRIBUTES.items() for n in names))
def test_names_layerkit_lacks_say_what_to_use(module, name):
    with pytest.raises(NotInLayerkitError, match=f"does not implement keras.*{name}. Instead"):
        exec(f"from {module} import {name}")


def test_unknown_names_stay_plain_attribute_errors():
    assert not hasattr(layers, "NoSuchLayer")
    with pytest.raises(ImportError, match="cannot import name 'NoSuchLayer'"):
        exec("from layerkit.layers import NoSuchLayer")


def test_cudnn_layers_are_lstm_gru_with_cudnn_settings():
    lstm = layers.CuDNNLSTM(4, return_sequences=True)
    assert isinstance(lstm, layers.LSTM) and lstm.return_sequences
    gru = layers.CuDNNGRU(4)
    assert isinstance(gru, layers.GRU) and gru.reset_after
    config = gru.get_config()
    assert (config["activation"], config["recurrent_activation"]) == ("tanh", "sigmoid")
    with pytest.raises(TypeError, match=r"CuDNNLSTM\(\) does not take \['dropout'\].*LSTM"):
        layers.CuDNNLSTM(4, dropout=0.2)


def test_optimizer_lowercase_aliases_and_modules():
    from layerkit import optimizers
    from layerkit.optimizers.sgd import SGD

    assert optimizers.sgd is SGD and optimizers.adam(lr=0.01).learning_rate == 0.01
