"""BatchNormalization and LayerNormalization against the Keras 3 oracle: outputs in training
and inference, moving statistics after fit, frozen layers, masks and errors. Weight counts,
configs, a training step and save/load: tests/test_layer_contract.py."""

import keras
import numpy as np
import pytest
import torch

import layerkit
from layerkit import Input, models
from layerkit.layers.normalization import BatchNormalization, LayerNormalization

from helpers import randn, to_numpy

ATOL = 1e-5
OURS = {"BatchNormalization": BatchNormalization, "LayerNormalization": LayerNormalization}

# id -> (class name, kwargs, input shape without batch)
CASES = {
    "bn_dense": ("BatchNormalization", {}, (5,)),
    "bn_sequence": ("BatchNormalization", {"momentum": 0.9}, (3, 4)),
    "bn_channels_first": ("BatchNormalization", {"axis": 1, "epsilon": 1e-2}, (3, 4, 4)),
    "bn_channels_last_image": ("BatchNormalization", {}, (4, 4, 3)),
    "bn_no_center": ("BatchNormalization", {"center": False}, (3, 4)),
    "bn_no_scale": ("BatchNormalization", {"scale": False}, (3, 4)),
    "ln_last": ("LayerNormalization", {}, (3, 5)),
    "ln_two_trailing_axes": ("LayerNormalization", {"axis": [1, 2], "epsilon": 1e-5},
                             (3, 5)),
    "ln_negative_axes": ("LayerNormalization", {"axis": [-2, -1]}, (2, 3, 4)),
    "ln_no_center_no_scale": ("LayerNormalization", {"center": False, "scale": False},
                              (4,)),
}


def _twins(case):
    """The layer in layerkit and Keras, built, with the same random (positive) weights."""
    name, kwargs, shape = CASES[case]
    ours, theirs = OURS[name](**kwargs), getattr(keras.layers, name)(**kwargs)
    ours.build((None,) + shape)
    theirs.build((None,) + shape)
    rng = np.random.RandomState(1)
    weights = [(rng.rand(*w.shape) + 0.5).astype("float32") for w in theirs.get_weights()]
    ours.set_weights(weights)
    theirs.set_weights(weights)
    return ours, theirs, shape


@pytest.mark.parametrize("training", [False, True], ids=["inference", "training"])
@pytest.mark.parametrize("case", list(CASES))
def test_output_matches_keras(case, training):
    ours, theirs, shape = _twins(case)
    x = randn(4, *shape, seed=9) * 2 + 1
    out = ours(torch.from_numpy(x), training=training)
    ref = theirs(x, training=training)
    np.testing.assert_allclose(to_numpy(out), to_numpy(ref), atol=ATOL)
    # BatchNormalization also updated its moving statistics (training only), like Keras.
    for mine, theirs_w in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(mine, theirs_w, atol=ATOL)


def test_batch_normalization_of_three_channels_has_twelve_params_six_frozen():
    model = models.Sequential([BatchNormalization(input_shape=(3,))])
    bn = model.layers[0]
    assert model.count_params() == 12
    assert sum(p.numel() for p in model.non_trainable_weights) == 6
    assert [bn._param_name(p) for p in bn.weights] == [
        "gamma", "beta", "moving_mean", "moving_variance"]


def _small_model(lib, bn_kwargs, frozen=False):
    bn = (keras.layers.BatchNormalization if lib is keras else BatchNormalization)(**bn_kwargs)
    bn.trainable = not frozen
    return lib.Sequential([lib.Input(shape=(4,)), lib.layers.Dense(3), bn,
                           lib.layers.Dense(1)])


@pytest.mark.parametrize("frozen", [False, True], ids=["trainable", "frozen"])
def test_fit_moves_statistics_like_keras(frozen):
    kwargs = {"momentum": 0.8}
    ours = _small_model(layerkit, kwargs, frozen)
    theirs = _small_model(keras, kwargs, frozen)
    theirs.set_weights([w + 0.1 for w in theirs.get_weights()])  # nonzero moving stats
    ours.set_weights(theirs.get_weights())
    ours.compile("sgd", "mse")
    theirs.compile("sgd", "mse")
    rng = np.random.RandomState(2)
    x, y = rng.randn(12, 4).astype("float32") * 3, rng.randn(12, 1).astype("float32")
    before = ours.get_weights()
    fit = dict(epochs=1, batch_size=4, shuffle=False, verbose=0)  # 3 steps
    ours.fit(x, y, **fit)
    theirs.fit(x, y, **fit)
    for mine, ref in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(mine, ref, atol=ATOL)
    moving_before, moving_after = before[-4:-2], ours.get_weights()[-4:-2]
    moved = [not np.allclose(a, b) for a, b in zip(moving_before, moving_after)]
    assert moved == ([False, False] if frozen else [True, True])
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0),
                               atol=ATOL)


def test_frozen_parent_runs_batch_normalization_in_inference_mode():
    bn = BatchNormalization()
    model = models.Sequential([Input(shape=(2,)), bn])
    model.trainable = False
    x = torch.tensor([[1.0, 2.0], [3.0, 6.0]])
    out = model(x, training=True)
    np.testing.assert_allclose(to_numpy(out), to_numpy(x) / np.sqrt(1 + 1e-3), rtol=1e-6)
    np.testing.assert_array_equal(bn.get_weights()[2], [0.0, 0.0])


def test_moving_statistics_use_biased_variance_and_keras_momentum():
    # Hand-computed: batch [1, 3] has mean 2, biased variance 1 (unbiased would be 2).
    bn = BatchNormalization(momentum=0.75)
    bn(torch.tensor([[1.0], [3.0]]), training=True)
    np.testing.assert_allclose(bn.get_weights()[2], [0.75 * 0 + 0.25 * 2])
    np.testing.assert_allclose(bn.get_weights()[3], [0.75 * 1 + 0.25 * 1])


def test_masked_batch_statistics_match_keras():
    ours, theirs, _ = _twins("bn_sequence")
    x = randn(2, 3, 4, seed=4)
    mask = np.array([[True, True, False], [True, False, False]])
    out = ours(torch.from_numpy(x), training=True, mask=torch.from_numpy(mask))
    ref = theirs(x, training=True, mask=mask)
    np.testing.assert_allclose(to_numpy(out), to_numpy(ref), atol=ATOL)
    for mine, theirs_w in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(mine, theirs_w, atol=ATOL)


def test_layer_normalization_on_a_middle_axis_matches_numpy():
    # Keras 3's torch backend fails here (it hands axis 1 to F.layer_norm as a trailing
    # axis); tf.keras normalizes over axis 1, which this pins.
    layer = LayerNormalization(axis=1)
    x = randn(2, 3, 4, seed=5)
    layer.build((None, 3, 4))
    gamma, beta = np.arange(1, 4, dtype="float32"), np.arange(3, dtype="float32")
    layer.set_weights([gamma, beta])
    mean, var = x.mean(axis=1, keepdims=True), x.var(axis=1, keepdims=True)
    expected = (x - mean) / np.sqrt(var + 1e-3) * gamma[:, None] + beta[:, None]
    np.testing.assert_allclose(to_numpy(layer(torch.from_numpy(x))), expected, atol=ATOL)


def test_layer_normalization_rms_scaling_matches_keras():
    with pytest.warns(DeprecationWarning, match="rms_scaling"):
        ours = LayerNormalization(rms_scaling=True)
    theirs = keras.layers.LayerNormalization(rms_scaling=True)
    ours.build((None, 5))
    theirs.build((None, 5))
    assert len(ours.weights) == 1
    weights = [np.linspace(0.5, 1.5, 5).astype("float32")]
    ours.set_weights(weights)
    theirs.set_weights(weights)
    x = randn(3, 5, seed=6) + 2
    np.testing.assert_allclose(to_numpy(ours(torch.from_numpy(x))), to_numpy(theirs(x)), atol=ATOL)


# ----------------------------------------------------------------- errors
@pytest.mark.parametrize("kwargs, match", [
    ({"axis": "x"}, r"BatchNormalization\(axis='x'\): axis must be an integer"),
    ({"momentum": 1.5}, r"BatchNormalization\(momentum=1.5\): momentum must be a float "
                        r"in \[0, 1\]"),
    ({"epsilon": 0}, r"BatchNormalization\(epsilon=0\): epsilon must be a positive"),
    ({"synchronized": "yes"}, r"synchronized='yes'\): synchronized must be True or False"),
], ids=["axis", "momentum", "epsilon", "synchronized"])
def test_batch_normalization_argument_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        BatchNormalization(**kwargs)


def test_batch_normalization_axis_and_rank_errors():
    with pytest.raises(ValueError, match=r"axis=3 is the batch axis or out of range for "
                       r"input shape \(None, 4\)"):
        BatchNormalization(axis=3)(Input(shape=(4,)))
    with pytest.raises(ValueError, match=r"axis=0 is the batch axis"):
        BatchNormalization(axis=0)(torch.ones(2, 3))
    bn = BatchNormalization()
    bn(Input(shape=(3, 4)))
    with pytest.raises(ValueError, match=r"expected ndim=3, found ndim=2"):
        bn(Input(shape=(4,)))
    with pytest.raises(ValueError, match=r"expected axis -1 of input shape to have value 4"):
        bn(Input(shape=(3, 5)))
    with pytest.raises(ValueError, match=r"mask must have one axis less"):
        BatchNormalization()(torch.ones(2, 3, 4), training=True,
                             mask=torch.ones(2, 3, 4, dtype=torch.bool))


def test_layer_normalization_errors():
    with pytest.raises(ValueError, match=r"LayerNormalization\(axis=1.5\): axis must be an "
                       r"int or a list of ints"):
        LayerNormalization(axis=1.5)
    with pytest.raises(ValueError, match=r"LayerNormalization\(epsilon=-1\)"):
        LayerNormalization(epsilon=-1)
    with pytest.raises(ValueError, match=r"axis=\[1, 3\] is the batch axis or out of range "
                       r"for input shape \(None, 4, 2\)"):
        LayerNormalization(axis=[1, 3])(Input(shape=(4, 2)))


def test_training_math_equals_torch_kernel_except_the_running_variance():
    # Why BatchNormalization does not use F.batch_norm(training=True): same outputs, but
    # torch moves the running variance with the unbiased batch variance, Keras the biased.
    x = torch.from_numpy(randn(4, 3, seed=7))
    bn = BatchNormalization(momentum=0.9)
    out = bn(x, training=True)
    running_mean, running_var = torch.zeros(3), torch.ones(3)
    ref = torch.nn.functional.batch_norm(x, running_mean, running_var, bn.gamma, bn.beta,
                                         training=True, momentum=0.1, eps=1e-3)
    np.testing.assert_allclose(to_numpy(out), to_numpy(ref), atol=ATOL)
    np.testing.assert_allclose(bn.get_weights()[2], to_numpy(running_mean), atol=1e-6)
    biased = to_numpy(x).var(axis=0)
    np.testing.assert_allclose(bn.get_weights()[3], 0.9 + 0.1 * biased, atol=1e-6)
    np.testing.assert_allclose(to_numpy(running_var), 0.9 + 0.1 * biased * 4 / 3, atol=1e-6)
