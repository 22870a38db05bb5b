"""The one serialization registry: one deserialize path for every kind, custom objects,
did-you-mean errors, import errors that raise, and no module named in a record imported."""

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import layerkit
from layerkit import layers, models, optimizers
from layerkit.utils import registry, serialization


class Scaler(layers.Layer):
    """A user layer: not registered (it comes through custom_objects)."""

    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, inputs):
        return inputs * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


def _created_by_the_path(build):
    """Names of the layers `serialization.deserialize` created while `build()` ran."""
    created = []
    with serialization.scope(watch=lambda layer: created.append(layer.name)):
        build()
    return created


def test_models_wrappers_and_nested_layers_come_through_one_path():
    inputs = layerkit.Input((4, 3))
    hidden = layers.Bidirectional(layers.LSTM(2, name="lstm"), name="bi")(inputs)
    model = models.Model(inputs, layers.Dense(1, name="out")(hidden))
    config = model.get_config()
    created = _created_by_the_path(lambda: models.Functional.from_config(config))
    # the model's InputLayer and Dense, the Bidirectional and the two LSTMs it wraps
    assert created == [config["layers"][0]["name"], "forward_lstm", "backward_lstm", "bi",
                       "out"]

    seq = models.Sequential([layers.Dense(3, input_shape=(5, 2), name="a"),
                             layers.TimeDistributed(layers.Dense(1, name="inner"), name="td")])
    created = _created_by_the_path(lambda: models.Sequential.from_config(seq.get_config()))
    assert created == ["a_input", "a", "inner", "td"]


def test_every_kind_deserializes_through_the_registry():
    made = {
        "layers": serialization.deserialize({"class_name": "Dense", "config": {"units": 3}}),
        "optimizers": serialization.deserialize(
            {"class_name": "Adam", "config": {"learning_rate": 0.5}}, "optimizers"),
        "losses": serialization.deserialize(
            {"class_name": "Huber", "config": {"delta": 2.0}}, "losses"),
        "metrics": serialization.deserialize(
            {"class_name": "AUC", "config": {"num_thresholds": 50}}, "metrics"),
        "initializers": serialization.deserialize(
            {"class_name": "Constant", "config": {"value": 3.0}}, "initializers"),
        "regularizers": serialization.deserialize(
            {"class_name": "L2", "config": {"l2": 0.25}}, "regularizers"),
        "constraints": serialization.deserialize(
            {"class_name": "MaxNorm", "config": {"max_value": 4.0}}, "constraints"),
    }
    assert made["layers"].units == 3
    assert made["optimizers"].learning_rate == 0.5
    assert made["losses"].get_config()["delta"] == 2.0
    assert made["metrics"].get_config()["num_thresholds"] == 50
    assert float(made["initializers"]((2,), dtype="float32")[0]) == 3.0
    assert made["regularizers"].get_config()["l2"] == pytest.approx(0.25)
    assert made["constraints"].get_config()["max_value"] == 4.0
    assert serialization.deserialize({"class_name": "relu", "config": None},
                                     "activations") is layerkit.activations.relu
    assert optimizers.deserialize({"class_name": "sgd", "config": {}}).__class__ is \
        optimizers.SGD


def test_registered_classes_cover_layers_and_models():
    table = registry.names("layers")
    assert table["Dense"] is layers.Dense
    assert table["Sequential"] is models.Sequential
    assert table["Model"] is models.Functional  # tf.keras 2.x's name for a functional model
    assert set(registry.names("models").values()) == {models.Sequential, models.Functional}
    assert "Scaler" not in table  # user classes are not registered by defining them


def test_unknown_names_say_did_you_mean():
    with pytest.raises(ValueError, match=r"Unknown layer: 'Dens'\. Did you mean 'Dense'"):
        serialization.deserialize({"class_name": "Dens", "config": {}})
    with pytest.raises(ValueError, match=r"Unknown optimizer: 'Adamm'\. Did you mean 'Adam'"):
        optimizers.deserialize({"class_name": "Adamm", "config": {}})
    with pytest.raises(ValueError, match="custom_objects"):
        registry.get("losses", "my_loss")


def test_custom_objects_are_looked_up_first_and_required_for_user_classes():
    record = {"class_name": "Scaler", "config": {"factor": 3.0, "name": "s"}}
    with pytest.raises(ValueError, match=r"Unknown layer: 'Scaler'.*custom_objects"):
        serialization.deserialize(record)
    layer = serialization.deserialize(record, custom_objects={"Scaler": Scaler})
    assert isinstance(layer, Scaler) and layer.factor == 3.0
    with serialization.scope(custom_objects={"Scaler": Scaler}):
        assert isinstance(serialization.deserialize(record), Scaler)
    model = models.Sequential([layers.Dense(2, input_shape=(3,)), Scaler(4.0)])
    text = model.to_json()
    with pytest.raises(ValueError, match="Scaler"):
        models.model_from_json(text)
    loaded = models.model_from_json(text, custom_objects={"Scaler": Scaler})
    loaded.set_weights(model.get_weights())
    x = np.ones((2, 3), "float32")
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


def test_a_module_named_in_a_record_is_never_imported():
    record = {"module": "json.tool", "class_name": "main", "config": {},
              "registered_name": "main"}
    had = "json.tool" in sys.modules
    with pytest.raises(ValueError, match="Unknown layer: 'main'"):
        serialization.deserialize(record)
    assert ("json.tool" in sys.modules) == had
    function = {"module": "os", "class_name": "function", "config": "system",
                "registered_name": "function"}
    with pytest.raises(ValueError, match="unknown function 'system'"):
        serialization.deserialize({"class_name": "Lambda", "config": {"function": function}})


def test_lambda_bytecode_needs_safe_mode_off():
    model = models.Sequential([layers.Lambda(lambda t: t + 1.0, input_shape=(2,))])
    config = json.loads(model.to_json())
    with pytest.raises(ValueError, match="safe_mode"):
        models.model_from_config(config)
    loaded = models.model_from_config(config, safe_mode=False)
    np.testing.assert_array_equal(loaded.predict(np.zeros((1, 2), "float32")), [[1.0, 1.0]])


def test_a_name_registered_twice_raises():
    class Dense(layers.Layer):  # defined in tests: not registered automatically
        pass

    with pytest.raises(ValueError, match="'Dense' is already registered"):
        registry.register("layers", Dense)
    assert registry.names("layers")["Dense"] is layers.Dense


def _run(code):
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=300)


def test_a_layer_family_that_fails_to_import_raises():
    """No class table swallows an ImportError: a broken layerkit module breaks the import,
    or the first lookup when the layers package loads its families lazily."""
    result = _run("""
        import importlib.abc, sys

        class Broken(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path, target=None):
                if name == "layerkit.layers.pooling":
                    raise ImportError("pooling is broken on purpose")
                return None

        sys.meta_path.insert(0, Broken())
        try:
            import layerkit.saving
            from layerkit.utils import registry
            registry.get("layers", "Dense")  # layers that load lazily load here
        except ImportError as error:
            print("raised:", error)
        else:
            print("imported")
    """)
    assert "raised: pooling is broken on purpose" in result.stdout, result.stderr


def test_loading_needs_no_import_of_models(tmp_path):
    """`from layerkit.saving import load_model` alone rebuilds Sequential and functional
    models (the public face registers them; saving never imports models/)."""
    path = tmp_path / "m.keras"
    model = models.Sequential([layers.Dense(2, input_shape=(3,))])
    model.save(path)
    result = _run(f"""
        from layerkit.saving import load_model
        model = load_model({str(path)!r})
        print(type(model).__name__, [layer.name for layer in model.layers])
    """)
    names = [layer.name for layer in model.layers]
    assert result.stdout.strip() == f"Sequential {names}", result.stderr


def test_a_registered_module_that_fails_to_import_raises_at_every_read():
    result = _run("""
        from layerkit.utils import registry
        registry.register_module("layers", "layerkit.no_such_module")
        for attempt in range(2):
            try:
                registry.get("layers", "Dense")
            except ImportError as error:
                print("raised:", error.name)
    """)
    assert result.stdout.split() == ["raised:", "layerkit.no_such_module"] * 2, result.stderr


def test_model_files_reach_saving_from_below(tmp_path):
    """Model.save & co. can call saving through utils.model_files (models sits below it)."""
    from layerkit.utils import model_files

    model = models.Sequential([layers.Dense(2, input_shape=(3,))])
    path = tmp_path / "m.weights.h5"
    model_files.call("save_weights", model, str(path))
    other = models.Sequential([layers.Dense(2, input_shape=(3,))])
    model_files.call("load_weights", other, str(path))
    for a, b in zip(model.get_weights(), other.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert json.loads(model_files.call("model_to_json", model)) == json.loads(model.to_json())
    with pytest.raises(RuntimeError, match="no_such_function: layerkit.saving is not loaded"):
        model_files.call("no_such_function")
