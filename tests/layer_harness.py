"""The layer contract, checked the same way for every public layer.

Who owns what:
- `Case` describes one layer under test: how to make it in layerkit (and its twin in
  Keras 3, the oracle), its input shape(s), and what stands in where Keras 3 has no twin
  (hand-written weight counts, a numpy reference).
- `public_layers()` lists the layers `layerkit.layers` exports; tests/test_layer_contract.py
  proves that its case table (tests/layer_cases.py) covers every one of them.
- The `check_*` functions are the contract, one per property: output shapes (eager,
  `compute_output_shape`, KerasTensor, Keras 3's), weight counts, config round trip (and
  Keras 3's arguments in it, and Keras 3 reading it back), one training step, save -> load,
  numbers against the oracle. Each raises AssertionError naming the case and what differs.

Keras is imported once, on first use (`keras_module`), and only by the checks that
compare with it.
"""

import copy
import dataclasses
import functools
import inspect
from typing import Any, Callable, Optional

import numpy as np
import pytest
import torch

from layerkit import Input, layers, models, optimizers, saving
from layerkit.layers import Layer

BATCH = 3
# Keras 3 config keys of features layerkit does not have (mixed-precision autocast, LoRA,
# quantization)
KERAS3_ONLY = {"autocast", "lora_rank", "lora_alpha", "quantization_config"}


@dataclasses.dataclass(frozen=True)
class Case:
    """One layer under test.

    Args:
        id: readable test id, `Class-variant`.
        make: () -> a fresh, unbuilt layerkit layer.
        shapes: input shape without the batch axis, or a list of them for a layer that takes
            a list of inputs (merging layers, TensorOp).
        keras: keras module -> the same layer in Keras 3 (None where Keras 3 lacks it).
        counts: (trainable, non-trainable) scalar counts by hand, where `keras` is None.
        reference: (list of numpy inputs, list of numpy weights) -> numpy output(s): the
            oracle where `keras` is None.
        covers: the public name this case stands for when `make` is a factory (Input,
            CuDNNLSTM); by default the class name of what `make` returns.
        dtype, high, scale: input dtype; integer inputs are drawn from [0, high), float
            ones from a normal distribution of standard deviation `scale`.
        atol, rtol: tolerance against the oracle (float32 kernels on both sides).
        model: (layer, case) -> Model, where the layer cannot sit between a Dense and a head
            (InputLayer, Input).
        custom_objects, safe_mode: what `load_model` needs for this layer.
        unsaveable: a regex of the error `get_config` and `save` raise for a layer that
            cannot be serialized by design (TensorOp); None for every other layer.
        keras_config_skip: config keys whose value differs from Keras 3's on purpose
            (tf.keras 2.x defaults), each documented where the case is written.
    """

    id: str
    make: Callable[[], Layer]
    shapes: Any
    keras: Optional[Callable] = None
    counts: Optional[tuple] = None
    reference: Optional[Callable] = None
    covers: Optional[str] = None
    dtype: str = "float32"
    high: int = 10
    scale: float = 1.0
    atol: float = 1e-5
    rtol: float = 1e-5
    model: Optional[Callable] = None
    custom_objects: Optional[dict] = None
    safe_mode: bool = True
    unsaveable: Optional[str] = None
    keras_config_skip: frozenset = frozenset()

    @property
    def several(self):
        return isinstance(self.shapes, list)

    @property
    def shape_list(self):
        return self.shapes if self.several else [self.shapes]


@functools.cache
def keras_module():
    """Keras 3 on the torch backend (conftest.py sets KERAS_BACKEND), imported once."""
    import keras

    return keras


# ----------------------------------------------------------------------- discovery
def public_layers():
    """The capitalised public names of `layerkit.layers`, sorted into two.

    Returns:
        ({canonical name: object} of those that make a layer: Layer subclasses and factory
        functions (Input, CuDNNLSTM), aliases such as Convolution2D folded onto the
        object's own name; [the other names], each to be explained as not a layer).
    """
    found, others = {}, []
    for name in sorted(dir(layers)):
        if not name[0].isupper():
            continue
        obj = getattr(layers, name)
        if inspect.isclass(obj) and issubclass(obj, Layer) or inspect.isfunction(obj):
            found[obj.__name__] = obj
        else:
            others.append(name)
    return found, others


def covered_name(case):
    return case.covers or type(case.make()).__name__


# ----------------------------------------------------------------------- data
def batch_inputs(case, batch=BATCH, seed=0):
    """Numpy inputs, one per shape: normal floats, or integers in [0, high)."""
    rng = np.random.RandomState(seed)
    if case.dtype.startswith("int"):
        return [rng.randint(0, case.high, size=(batch,) + s).astype(case.dtype)
                for s in case.shape_list]
    return [(rng.randn(batch, *s) * case.scale).astype(case.dtype) for s in case.shape_list]


def feed(case, values):
    """What the layer is called on: the list for list-taking layers, else the one value."""
    return list(values) if case.several else values[0]


def as_list(outputs):
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]


def numpy_of(t):
    if isinstance(t, torch.Tensor):
        return t.detach().cpu().numpy()
    return keras_module().ops.convert_to_numpy(t)


def eager(case, layer, arrays, **kwargs):
    """The layer called on torch tensors made from `arrays`; a list of numpy outputs."""
    outputs = layer(feed(case, [torch.from_numpy(a) for a in arrays]), **kwargs)
    return [numpy_of(o) for o in as_list(outputs)]


# ----------------------------------------------------------------------- checks
def check_output_shapes(case):
    """Eager output shape == compute_output_shape == KerasTensor shape (batch None) ==
    Keras 3's symbolic shape."""
    eager_shapes = [(None,) + o.shape[1:] for o in eager(case, case.make(), batch_inputs(case))]
    symbolic = [(None,) + tuple(s) for s in case.shape_list]
    computed = case.make().compute_output_shape(symbolic if case.several else symbolic[0])
    computed = [tuple(s) for s in (computed if isinstance(computed, list) else [computed])]
    tensors = case.make()(feed(case, [Input(shape=s, dtype=case.dtype)
                                      for s in case.shape_list]))
    traced = [tuple(t.shape) for t in as_list(tensors)]
    assert eager_shapes == computed == traced, \
        f"{case.id}: eager {eager_shapes}, compute_output_shape {computed}, symbolic {traced}"
    if case.keras is not None:
        keras = keras_module()
        theirs = case.keras(keras)(feed(case, [keras.Input(shape=s, dtype=case.dtype)
                                               for s in case.shape_list]))
        theirs = [tuple(t.shape) for t in keras.tree.flatten(theirs)]
        assert computed == theirs, f"{case.id}: {computed}, Keras 3 symbolic {theirs}"


def _counts(layer):
    size = lambda ws: sum(int(np.prod(tuple(w.shape))) for w in ws)  # noqa: E731
    return size(layer.trainable_weights), size(layer.non_trainable_weights)


def keras_twin(case, arrays):
    """The Keras 3 layer, called once on `arrays` (so built as Keras builds it)."""
    theirs = case.keras(keras_module())
    theirs(feed(case, arrays))
    return theirs


def expected_counts(case, arrays):
    """(trainable, non-trainable) of the Keras 3 twin built on `arrays`, else the hand count."""
    return case.counts if case.keras is None else _counts(keras_twin(case, arrays))


def check_weight_counts(case):
    """Trainable / non-trainable counts (and weight shapes, in order) equal Keras 3's, or
    the hand count where Keras 3 has no such layer."""
    arrays = batch_inputs(case)
    ours = case.make()
    eager(case, ours, arrays)
    assert _counts(ours) == expected_counts(case, arrays), \
        f"{case.id}: (trainable, non-trainable) {_counts(ours)}, expected " \
        f"{expected_counts(case, arrays)}"
    if case.keras is not None:
        assert [w.shape for w in ours.get_weights()] == \
            [tuple(w.shape) for w in keras_twin(case, arrays).get_weights()]


def check_config_round_trip(case):
    """from_config(get_config()) gives the same config and, weights copied, the same
    outputs."""
    arrays = batch_inputs(case)
    layer = case.make()
    expected = eager(case, layer, arrays)
    config = layer.get_config()
    clone = type(layer).from_config(copy.deepcopy(config))
    assert clone.get_config() == config, f"{case.id}: config changed in the round trip"
    eager(case, clone, arrays)  # builds it
    clone.set_weights(layer.get_weights())
    for got, want in zip(eager(case, clone, arrays), expected, strict=True):
        np.testing.assert_array_equal(got, want)


def unsaveable_config(case):
    """For a layer that cannot be serialized: get_config raises the documented error."""
    with pytest.raises(NotImplementedError, match=case.unsaveable):
        case.make().get_config()


def check_keras_config_keys(case):
    """Every constructor argument Keras 3 writes in the config is in ours, with the same
    value (a tuple / list difference aside), except the documented `keras_config_skip`."""
    ours = case.make().get_config()
    theirs = case.keras(keras_module()).get_config()
    base = {"name", "dtype", "trainable"} | KERAS3_ONLY
    if theirs.get("activity_regularizer") is None:
        base.add("activity_regularizer")  # the base Layer leaves a None one out
    missing = sorted(set(theirs) - set(ours) - base - case.keras_config_skip)
    assert not missing, f"{case.id}: Keras 3 config keys missing in ours: {missing}"
    keys = set(theirs) & set(ours) - base - case.keras_config_skip
    differ = sorted(k for k in keys
                    if _simple(theirs[k]) and _plain(ours[k]) != _plain(theirs[k]))
    assert not differ, f"{case.id}: " + ", ".join(
        f"{k}: ours {ours[k]!r}, Keras 3 {theirs[k]!r}" for k in differ)


def check_keras_reads_config(case):
    """Keras 3 deserializes our layer record (`saving.serialize_layer`, what a .keras file
    holds) into the layer its twin is: the same Keras config, names and the documented
    `keras_config_skip` aside. (User layers resolve to our own class: not checked.)"""
    keras = keras_module()
    record = saving.serialize_layer(case.make())
    rebuilt = keras.saving.deserialize_keras_object(copy.deepcopy(record), safe_mode=False)
    want, got = case.keras(keras).get_config(), rebuilt.get_config()
    for key in case.keras_config_skip:
        want.pop(key, None), got.pop(key, None)
    assert _unnamed(got) == _unnamed(want), \
        f"{case.id}: Keras 3 reads our record as {got}, its twin is {want}"


def _unnamed(config):
    """The config without its "name" entries, at any depth (nested layers included)."""
    if isinstance(config, dict):
        return {k: _unnamed(v) for k, v in config.items() if k != "name"}
    if isinstance(config, (list, tuple)):
        return [_unnamed(v) for v in config]
    return config


def _plain(value):
    """Tuples as lists, at any depth (Keras writes either)."""
    return [_plain(v) for v in value] if isinstance(value, (list, tuple)) else value


def _simple(value):
    """Config values compared as they are (nested objects serialize differently)."""
    if isinstance(value, (list, tuple)):
        return all(_simple(v) for v in value)
    return value is None or isinstance(value, (bool, int, float, str))


def contract_model(case, layer):
    """Input(s) -> Dense(last axis) for float inputs -> layer -> first output -> Flatten
    -> Dense(1): the Dense before proves gradients flow through the layer."""
    if case.model is not None:
        return case.model(layer, case)
    inputs = [Input(shape=s, dtype=case.dtype) for s in case.shape_list]
    fed = inputs if case.dtype.startswith("int") else [
        layers.Dense(s[-1])(t) for s, t in zip(case.shape_list, inputs)]
    out = as_list(layer(feed(case, fed)))[0]
    if len(out.shape) > 2:
        out = layers.Flatten()(out)
    return models.Model(feed(case, inputs), layers.Dense(1)(out))


def check_training_step(case):
    """One SGD step on mse changes every trainable weight of the model: the layer's own
    and the Dense before it (the gradient flows through). A layer that Keras 3 (or the
    hand count) gives no trainable weight has none, and the step runs."""
    layer = case.make()
    model = contract_model(case, layer)
    model.compile(optimizer=optimizers.SGD(learning_rate=0.1), loss="mse")
    arrays = batch_inputs(case, batch=4)
    if expected_counts(case, arrays)[0] == 0:
        assert layer.trainable_weights == [], f"{case.id}: expected no trainable weight"
    y = np.random.RandomState(1).randn(4, 1).astype("float32")
    weights = model.trainable_weights
    before = [w.detach().clone() for w in weights]
    loss = model.train_on_batch(feed(case, arrays), y)
    assert np.isfinite(loss), f"{case.id}: loss {loss}"
    frozen = [name for name, w, b in _named(model, weights, before) if torch.equal(w, b)]
    assert not frozen, f"{case.id}: one SGD step left {frozen} unchanged"
    own = {id(w) for w in layer.trainable_weights}
    assert own <= {id(w) for w in weights}, f"{case.id}: the layer's weights are not trained"


def _named(model, weights, before):
    """(`layer_name[i]`, weight now, weight before) for the model's trainable weights."""
    names = {}
    for sub in model.layers:
        for i, w in enumerate(sub.trainable_weights):
            names.setdefault(id(w), f"{sub.name}[{i}]")
    return [(names.get(id(w), "?"), w.detach(), b) for w, b in zip(weights, before)]


def check_save_load(case, path):
    """The model holding the layer, saved and loaded, predicts the same and holds the same
    weights."""
    model = contract_model(case, case.make())
    arrays = batch_inputs(case, seed=2)
    expected = model.predict(feed(case, arrays), verbose=0)
    model.save(path)
    loaded = models.load_model(path, custom_objects=case.custom_objects,
                               safe_mode=case.safe_mode)
    for got, want in zip(loaded.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(loaded.predict(feed(case, arrays), verbose=0), expected)


def unsaveable_save(case, path):
    """For a layer that cannot be serialized: saving a model holding it raises the
    documented error and writes no file."""
    model = contract_model(case, case.make())
    with pytest.raises((NotImplementedError, ValueError), match=case.unsaveable):
        model.save(path)
    assert not path.exists()


def random_weights(theirs, seed=0):
    """Nonzero random values for every Keras weight (variances positive)."""
    rng = np.random.RandomState(seed)
    values = []
    for variable, value in zip(theirs.weights, theirs.get_weights()):
        if "variance" in variable.path:
            values.append(rng.uniform(0.5, 1.5, value.shape).astype(value.dtype))
        else:
            values.append(rng.uniform(-0.5, 0.5, value.shape).astype(value.dtype))
    theirs.set_weights(values)


def check_matches_oracle(case):
    """Inference outputs equal Keras 3's with the same (random) weights, or the numpy
    reference's, within the case's float32 tolerance."""
    arrays = batch_inputs(case, seed=3)
    ours = case.make()
    eager(case, ours, arrays)
    if case.keras is not None:
        theirs = keras_twin(case, arrays)
        random_weights(theirs)
        ours.set_weights(theirs.get_weights())
        expected = [numpy_of(o) for o in as_list(theirs(feed(case, arrays)))]
    else:
        expected = as_list(case.reference(arrays, ours.get_weights()))
    got = eager(case, ours, arrays)
    assert len(got) == len(expected), f"{case.id}: {len(got)} outputs, oracle {len(expected)}"
    for mine, want in zip(got, expected):
        np.testing.assert_allclose(mine, want, atol=case.atol, rtol=case.rtol,
                                   err_msg=f"{case.id} against the oracle")
