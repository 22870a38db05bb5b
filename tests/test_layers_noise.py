"""Noise layers (GaussianNoise, GaussianDropout, SpatialDropout1D/2D/3D): identity at
inference, seeded training statistics and errors (Keras 3 semantics). Shapes, configs, a
training step and save/load: tests/test_layer_contract.py."""

import keras
import numpy as np
import pytest
import torch

from layerkit import Input, layers, models
from layerkit.layers.regularization.gaussian_dropout import GaussianDropout
from layerkit.layers.regularization.gaussian_noise import GaussianNoise
from layerkit.layers.regularization.spatial_dropout1d import SpatialDropout1D
from layerkit.layers.regularization.spatial_dropout2d import SpatialDropout2D
from layerkit.layers.regularization.spatial_dropout3d import SpatialDropout3D

OURS = {c.__name__: c for c in (GaussianNoise, GaussianDropout, SpatialDropout1D,
                                 SpatialDropout2D, SpatialDropout3D)}

# id -> (class name, kwargs, input shape without batch)
CASES = {
    "gaussian_noise": ("GaussianNoise", {"stddev": 0.5, "seed": 1}, (3, 4)),
    "gaussian_dropout": ("GaussianDropout", {"rate": 0.3, "seed": 1}, (5,)),
    "spatial_1d": ("SpatialDropout1D", {"rate": 0.5, "seed": 1}, (4, 3)),
    "spatial_2d_last": ("SpatialDropout2D", {"rate": 0.5, "seed": 1,
                                             "data_format": "channels_last"}, (3, 3, 2)),
    "spatial_2d_first": ("SpatialDropout2D", {"rate": 0.5, "seed": 1,
                                              "data_format": "channels_first"}, (2, 3, 3)),
    "spatial_3d_first": ("SpatialDropout3D", {"rate": 0.25, "seed": 1,
                                              "data_format": "channels_first"}, (2, 2, 2, 2)),
}


def _x(*shape, seed=0):
    return torch.from_numpy(np.random.RandomState(seed).rand(*shape).astype("float32") + 1)


@pytest.mark.parametrize("case", list(CASES))
def test_identity_at_inference(case):
    name, kwargs, shape = CASES[case]
    layer = OURS[name](**kwargs)
    x = _x(2, *shape)
    assert layer(x) is x
    assert layer(x, training=False) is x
    theirs = getattr(keras.layers, name)(**kwargs)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(theirs(x.numpy())), x.numpy())


@pytest.mark.parametrize("case", list(CASES))
def test_seed_makes_training_noise_reproducible(case):
    name, kwargs, shape = CASES[case]
    x = _x(8, *shape)
    first, second = OURS[name](**kwargs), OURS[name](**kwargs)
    a1, a2 = first(x, training=True), first(x, training=True)
    b1 = second(x, training=True)
    torch.testing.assert_close(a1, b1)  # same seed, same sequence
    assert not torch.equal(a1, a2)  # a new draw each call
    other = OURS[name](**dict(kwargs, seed=2))(x, training=True)
    assert not torch.equal(a1, other)


@pytest.mark.parametrize("case", list(CASES))
def test_config_has_no_noise_shape(case):
    """Keras 3 computes the spatial dropouts' noise shape; it is no argument (the round
    trip itself: tests/test_layer_contract.py)."""
    name, kwargs, _ = CASES[case]
    assert "noise_shape" not in OURS[name](**kwargs).get_config()


def test_gaussian_noise_statistics():
    x = torch.full((200, 500), 3.0)
    out = GaussianNoise(0.5, seed=0)(x, training=True)
    noise = (out - x).numpy()
    assert abs(noise.mean()) < 0.005
    assert noise.std() == pytest.approx(0.5, rel=0.01)


def test_gaussian_dropout_statistics():
    rate = 0.2
    x = torch.full((200, 500), 2.0)
    factor = (GaussianDropout(rate, seed=0)(x, training=True) / x).numpy()
    assert factor.mean() == pytest.approx(1.0, abs=0.005)
    assert factor.std() == pytest.approx(np.sqrt(rate / (1 - rate)), rel=0.01)


@pytest.mark.parametrize("case, channel_axis", [
    ("spatial_1d", -1), ("spatial_2d_last", -1), ("spatial_2d_first", 1),
    ("spatial_3d_first", 1)])
def test_spatial_dropout_drops_whole_channels(case, channel_axis):
    name, kwargs, shape = CASES[case]
    rate = kwargs["rate"]
    x = torch.ones((400,) + shape)
    out = OURS[name](**kwargs)(x, training=True).numpy()
    values = np.unique(out)
    np.testing.assert_allclose(values, [0.0, 1 / (1 - rate)], rtol=1e-6)  # kept: scaled
    per_channel = np.moveaxis(out, channel_axis, 1).reshape(400, out.shape[channel_axis], -1)
    assert (per_channel.min(axis=-1) == per_channel.max(axis=-1)).all()  # one draw/channel
    dropped = (per_channel[..., 0] == 0).mean()
    assert dropped == pytest.approx(rate, abs=0.05)


def test_spatial_dropout_default_data_format_is_the_global_setting():
    assert SpatialDropout2D(0.1).data_format == "channels_last"


def test_noise_layers_train_in_a_model_and_predict_deterministically():
    model = models.Sequential([Input(shape=(4, 3)), GaussianNoise(0.1, seed=0),
                               SpatialDropout1D(0.3, seed=0), GaussianDropout(0.2, seed=0),
                               layers.Flatten(), layers.Dense(1)])
    model.compile("sgd", "mse")
    x = np.random.RandomState(0).rand(6, 4, 3).astype("float32")
    before = model.get_weights()
    model.train_on_batch(x, np.ones((6, 1), "float32"))
    assert any(not np.allclose(b, a) for b, a in zip(before, model.get_weights()))
    np.testing.assert_array_equal(model.predict(x, verbose=0), model.predict(x, verbose=0))


# ----------------------------------------------------------------- errors
@pytest.mark.parametrize("factory, match", [
    (lambda: GaussianNoise(-0.1), r"GaussianNoise\(stddev=-0.1\): stddev must be a float >= 0"),
    (lambda: GaussianDropout(1.0), r"GaussianDropout\(rate=1.0\): rate must be a float in "
                                   r"\[0, 1\)"),
    (lambda: SpatialDropout1D(1.5), r"SpatialDropout1D\(rate=1.5\): rate must be a float"),
    (lambda: SpatialDropout2D(0.1, data_format="nhwc"),
     r"SpatialDropout2D\(data_format='nhwc'\): data_format must be 'channels_last'"),
], ids=["noise_stddev", "gaussian_dropout_rate", "spatial_rate", "spatial_data_format"])
def test_argument_errors(factory, match):
    with pytest.raises(ValueError, match=match):
        factory()


def test_spatial_dropout_wrong_rank():
    with pytest.raises(ValueError, match=r"SpatialDropout2D\) expected ndim=4.*\(None, 3, 3\)"):
        SpatialDropout2D(0.5)(torch.ones(2, 3, 3), training=True)
    with pytest.raises(ValueError, match=r"expected ndim=3"):
        SpatialDropout1D(0.5)(Input(shape=(4,)))
