"""layerkit.losses against Keras 3 (torch backend), plus the tf.keras logits shortcut."""

import math

import keras
import numpy as np
import pytest
import torch

from layerkit import losses
from layerkit.graph import tensor_info

RNG = np.random.default_rng(0)


def _np(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


def _probs(shape):
    return RNG.uniform(0.01, 0.99, size=shape).astype("float32")


def _onehot(n, c):
    return np.eye(c, dtype="float32")[RNG.integers(0, c, n)]


def _softmax_rows(n, c):
    z = RNG.normal(size=(n, c)).astype("float32")
    e = np.exp(z - z.max(-1, keepdims=True))
    return (e / e.sum(-1, keepdims=True)).astype("float32")


def _case(name):
    """Inputs (y_true, y_pred) suited to each loss."""
    n, c = 6, 4
    if name in ("BinaryCrossentropy",):
        return RNG.integers(0, 2, (n, c)).astype("float32"), _probs((n, c))
    if name in ("CategoricalCrossentropy", "KLDivergence", "CategoricalHinge"):
        return _onehot(n, c), _softmax_rows(n, c)
    if name == "SparseCategoricalCrossentropy":
        return RNG.integers(0, c, (n,)).astype("int64"), _softmax_rows(n, c)
    if name in ("Hinge", "SquaredHinge"):
        return RNG.integers(0, 2, (n, c)).astype("float32"), RNG.normal(size=(n, c)).astype(
            "float32")
    if name in ("Poisson", "MeanSquaredLogarithmicError", "MeanAbsolutePercentageError"):
        return RNG.uniform(0.5, 3, (n, c)).astype("float32"), RNG.uniform(0.5, 3, (n, c)).astype(
            "float32")
    return RNG.normal(size=(n, c)).astype("float32"), (2 * RNG.normal(size=(n, c))).astype(
        "float32")


LOSS_CLASSES = [
    "BinaryCrossentropy", "CategoricalCrossentropy", "SparseCategoricalCrossentropy",
    "MeanSquaredError", "MeanAbsoluteError", "MeanAbsolutePercentageError",
    "MeanSquaredLogarithmicError", "Hinge", "SquaredHinge", "CategoricalHinge", "KLDivergence",
    "Poisson", "CosineSimilarity", "Huber", "LogCosh",
]


@pytest.mark.parametrize("name", LOSS_CLASSES)
@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", None])
def test_loss_classes_match_keras(name, reduction):
    y, p = _case(name)
    w = RNG.uniform(0, 2, (len(y),)).astype("float32")
    ours = getattr(losses, name)(reduction=reduction)
    ref = getattr(keras.losses, name)(reduction=reduction)
    for sw in (None, w):
        got = ours(torch.as_tensor(y), torch.as_tensor(p), sample_weight=sw)
        want = _np(ref(y, p, sample_weight=sw))
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-5, atol=1e-6)


FUNCTIONS = [
    ("binary_crossentropy", "BinaryCrossentropy"),
    ("categorical_crossentropy", "CategoricalCrossentropy"),
    ("sparse_categorical_crossentropy", "SparseCategoricalCrossentropy"),
    ("mean_squared_error", "MeanSquaredError"),
    ("mean_absolute_error", "MeanAbsoluteError"),
    ("mean_absolute_percentage_error", "MeanAbsolutePercentageError"),
    ("mean_squared_logarithmic_error", "MeanSquaredLogarithmicError"),
    ("hinge", "Hinge"), ("squared_hinge", "SquaredHinge"),
    ("categorical_hinge", "CategoricalHinge"), ("kl_divergence", "KLDivergence"),
    ("poisson", "Poisson"), ("cosine_similarity", "CosineSimilarity"), ("huber", "Huber"),
    ("log_cosh", "LogCosh"),
]


@pytest.mark.parametrize("fn,case", FUNCTIONS, ids=[f for f, _ in FUNCTIONS])
def test_per_sample_functions_match_keras(fn, case):
    y, p = _case(case)
    got = getattr(losses, fn)(torch.as_tensor(y), torch.as_tensor(p))
    want = _np(getattr(keras.losses, fn)(y, p))
    assert got.shape == want.shape
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("cls,kwargs", [
    ("BinaryCrossentropy", {"from_logits": True}),
    ("BinaryCrossentropy", {"label_smoothing": 0.2}),
    ("CategoricalCrossentropy", {"from_logits": True, "label_smoothing": 0.1}),
    ("SparseCategoricalCrossentropy", {"from_logits": True}),
    ("Huber", {"delta": 0.3}),
])
def test_loss_options_match_keras(cls, kwargs):
    y, p = _case(cls)
    if kwargs.get("from_logits"):
        p = RNG.normal(size=p.shape).astype("float32") * 3
    got = getattr(losses, cls)(**kwargs)(torch.as_tensor(y), torch.as_tensor(p))
    np.testing.assert_allclose(got.numpy(), _np(getattr(keras.losses, cls)(**kwargs)(y, p)),
                               rtol=1e-5, atol=1e-6)


def test_probability_edge_values_match_keras_clipping():
    y = np.array([[1.0], [0.0], [1.0], [0.0]], "float32")
    p = np.array([[1.0], [1.0], [0.0], [0.0]], "float32")
    got = losses.BinaryCrossentropy(reduction=None)(torch.as_tensor(y), torch.as_tensor(p))
    want = _np(keras.losses.BinaryCrossentropy(reduction=None)(y, p))
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-6)
    # Unnormalized categorical probabilities are renormalized first: [0.5, 1.5] → -log 0.75.
    got = losses.categorical_crossentropy(torch.tensor([[0.0, 1.0]]), torch.tensor([[0.5, 1.5]]))
    assert got.item() == pytest.approx(-math.log(0.75), rel=1e-6)


@pytest.mark.parametrize("true_shape,pred_shape", [((5,), (5, 1)), ((5, 1), (5,))])
def test_rank_alignment_never_broadcasts(true_shape, pred_shape):
    y = RNG.normal(size=true_shape).astype("float32")
    p = RNG.normal(size=pred_shape).astype("float32")
    got = losses.MeanSquaredError()(torch.as_tensor(y), torch.as_tensor(p))
    expected = np.mean((y.reshape(-1) - p.reshape(-1)) ** 2)
    assert got.item() == pytest.approx(expected, rel=1e-6)
    assert got.item() == pytest.approx(float(_np(keras.losses.MeanSquaredError()(y, p))),
                                       rel=1e-6)


def test_reductions_and_weights():
    y = torch.tensor([[0.0], [0.0]])
    p = torch.tensor([[1.0], [3.0]])
    w = torch.tensor([1.0, 0.0])
    assert losses.MeanSquaredError()(y, p, w).item() == pytest.approx(0.5)  # Σ/N, not Σ/Σw
    assert losses.MeanSquaredError(reduction="sum")(y, p, w).item() == pytest.approx(1.0)
    assert losses.MeanSquaredError(reduction="mean_with_sample_weight")(y, p, w).item() == 1.0
    assert losses.MeanSquaredError(reduction="auto").reduction == "sum_over_batch_size"
    with pytest.raises(ValueError, match="reduction must be one of"):
        losses.MeanSquaredError(reduction="average")


def test_per_sample_weights_on_sequence_losses_weigh_every_step():
    y = torch.zeros(2, 3, 1)
    p = torch.arange(6.0).reshape(2, 3, 1)
    got = losses.MeanSquaredError()(y, p, sample_weight=torch.tensor([1.0, 0.0]))
    assert got.item() == pytest.approx((0 + 1 + 4) / 6)


def test_keras_mask_on_predictions_matches_keras():
    y = RNG.normal(size=(4, 3, 2)).astype("float32")
    p = RNG.normal(size=(4, 3, 2)).astype("float32")
    mask = np.array([[1, 1, 0], [1, 0, 0], [1, 1, 1], [0, 1, 1]], bool)
    ours_p = torch.as_tensor(p)
    tensor_info.set_mask(ours_p, torch.as_tensor(mask))
    got = losses.MeanSquaredError()(torch.as_tensor(y), ours_p)
    ref_p = torch.as_tensor(p)
    keras.src.backend.set_keras_mask(ref_p, torch.as_tensor(mask))
    want = _np(keras.losses.MeanSquaredError()(y, ref_p))
    assert got.item() == pytest.approx(float(want), rel=1e-5)


def test_ignore_class_matches_keras():
    y = np.array([0, 2, -1, 1, -1], "int64")
    p = _softmax_rows(5, 3)
    got = losses.SparseCategoricalCrossentropy(ignore_class=-1)(torch.as_tensor(y),
                                                                torch.as_tensor(p))
    want = _np(keras.losses.SparseCategoricalCrossentropy(ignore_class=-1)(y, p))
    assert got.item() == pytest.approx(float(want), rel=1e-5)


# --- The tf.keras logits shortcut -------------------------------------------------------------

def _sigmoid_output(z):
    out = torch.sigmoid(z)
    return tensor_info.set_logits(out, z, "sigmoid")  # what layers.activate() does


def _softmax_output(z):
    out = torch.softmax(z, dim=-1)
    return tensor_info.set_logits(out, z, "softmax")


def test_saturated_sigmoid_uses_logits_exactly():
    z = torch.tensor([[40.0], [-3.0], [0.5]])
    y = torch.tensor([[0.0], [1.0], [1.0]])
    out = _sigmoid_output(z)
    per_sample = losses.binary_crossentropy(y, out)
    # Hand values: softplus(40) = 40 (+4e-18), softplus(3) = 3.04859, softplus(-0.5) = 0.47408.
    np.testing.assert_allclose(per_sample.numpy(), [40.0, 3.0485873, 0.4740770], rtol=1e-6)
    assert torch.equal(per_sample, losses.binary_crossentropy(y, z, from_logits=True))
    clipped = losses.binary_crossentropy(y, torch.sigmoid(z))  # no cached logits: Keras 3
    want = _np(keras.losses.binary_crossentropy(y.numpy(), torch.sigmoid(z).numpy()))
    np.testing.assert_allclose(clipped.numpy(), want, rtol=1e-6)
    assert clipped[0].item() < 16.2  # capped by the 1e-7 clip (1 - 1e-7 rounds in float32)


def test_logits_shortcut_through_loss_objects_and_alignment():
    z = torch.tensor([[40.0], [-40.0]])
    y = torch.tensor([0.0, 1.0])  # (n,) vs (n, 1): y_true is expanded, logits kept
    got = losses.BinaryCrossentropy()(y, _sigmoid_output(z))
    assert got.item() == pytest.approx(40.0, rel=1e-6)
    z3 = torch.full((2, 3, 1), 40.0)  # y_pred (n, t, 1) is squeezed: logits must follow
    got = losses.BinaryCrossentropy()(torch.zeros(2, 3), _sigmoid_output(z3))
    assert got.item() == pytest.approx(40.0, rel=1e-6)


def test_logits_shortcut_survives_the_cast_to_floatx():
    # A float16 layer output is cast to float32 by the loss; its float16 rounding must not
    # hide that the cached logits produced it.
    z = torch.tensor([[12.0], [-0.7]], dtype=torch.float16)
    y = torch.tensor([[0.0], [1.0]])
    got = losses.BinaryCrossentropy(reduction=None)(y, _sigmoid_output(z))
    want = losses.binary_crossentropy(y, z.float(), from_logits=True)
    assert torch.equal(got, want) and got[0].item() == pytest.approx(12.0, rel=1e-6)


def test_softmax_logits_for_categorical_and_sparse():
    z = torch.tensor([[30.0, -30.0, 0.0], [1.0, 2.0, 3.0]])
    out = _softmax_output(z)
    onehot = torch.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    labels = torch.tensor([1, 2])
    exact_cat = losses.categorical_crossentropy(onehot, z, from_logits=True)
    assert torch.equal(losses.categorical_crossentropy(onehot, out), exact_cat)
    exact_sparse = losses.sparse_categorical_crossentropy(labels, z, from_logits=True)
    assert torch.allclose(losses.sparse_categorical_crossentropy(labels, out), exact_sparse)
    assert exact_sparse[0].item() == pytest.approx(60.0, rel=1e-6)  # not -log(1e-7)
    metric_value = losses.SparseCategoricalCrossentropy()(labels, out)
    assert metric_value.item() == pytest.approx(exact_sparse.mean().item(), rel=1e-6)


def test_logits_of_another_activation_are_not_used():
    # tf.keras >= 2.5 fed softmax logits to sigmoid crossentropy; we use the probabilities
    # (Keras 3 numbers) unless the logits come from the matching activation.
    z = torch.tensor([[2.0, -2.0], [0.3, 0.1]])
    softmaxed = _softmax_output(z)
    y = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    want = _np(keras.losses.binary_crossentropy(y.numpy(), softmaxed.detach().numpy()))
    np.testing.assert_allclose(losses.binary_crossentropy(y, softmaxed).numpy(), want, rtol=1e-6)
    sigmoided = _sigmoid_output(z)
    want = _np(keras.losses.categorical_crossentropy(y.numpy(), sigmoided.numpy()))
    np.testing.assert_allclose(losses.categorical_crossentropy(y, sigmoided).numpy(), want,
                               rtol=1e-6)
    want = _np(keras.losses.sparse_categorical_crossentropy(np.array([0, 1]), sigmoided.numpy()))
    got = losses.sparse_categorical_crossentropy(torch.tensor([0, 1]), sigmoided)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-6)


def test_gradient_flows_to_logits():
    z = torch.tensor([[40.0], [-1.0]], requires_grad=True)
    y = torch.tensor([[0.0], [1.0]])
    losses.BinaryCrossentropy()(y, _sigmoid_output(z)).backward()
    expected = (torch.sigmoid(z.detach()) - y) / 2
    assert torch.allclose(z.grad, expected, atol=1e-7)


# --- Lookup and serialization ----------------------------------------------------------------

@pytest.mark.parametrize("alias,fn_name", [
    ("mse", "mean_squared_error"), ("MSE", "mean_squared_error"),
    ("mae", "mean_absolute_error"), ("MAE", "mean_absolute_error"),
    ("mape", "mean_absolute_percentage_error"), ("msle", "mean_squared_logarithmic_error"),
    ("kld", "kl_divergence"), ("KLD", "kl_divergence"),
    ("kullback_leibler_divergence", "kl_divergence"), ("logcosh", "log_cosh"),
    ("bce", "binary_crossentropy"), ("categorical_crossentropy", "categorical_crossentropy"),
])
def test_get_string_aliases(alias, fn_name):
    loss = losses.get(alias)
    assert isinstance(loss, losses.LossFunctionWrapper)
    assert loss.fn is getattr(losses, fn_name) and loss.name == fn_name


def test_module_level_aliases():
    assert losses.mse is losses.MSE is losses.mean_squared_error
    assert losses.kld is losses.kullback_leibler_divergence is losses.kl_divergence
    assert losses.logcosh is losses.log_cosh and losses.bce is losses.binary_crossentropy


def test_get_other_identifiers():
    assert losses.get(None) is None
    instance = losses.Huber(delta=2.0)
    assert losses.get(instance) is instance
    assert isinstance(losses.get(losses.Hinge), losses.Hinge)
    got = losses.get({"class_name": "Huber", "config": {"delta": 3.0}})
    assert isinstance(got, losses.Huber) and got.delta == 3.0

    def my_loss(y_true, y_pred):
        return (y_true - y_pred).abs().sum(-1)

    wrapped = losses.get(my_loss)
    assert wrapped.name == "my_loss"
    # The wrapper aligns ranks before calling the user's function.
    assert wrapped(torch.tensor([1.0, 2.0]), torch.tensor([[0.0], [0.0]])).item() == 1.5
    with pytest.raises(ValueError, match="Unknown loss: 'msee'"):
        losses.get("msee")


@pytest.mark.parametrize("name", LOSS_CLASSES)
def test_config_round_trip(name):
    kwargs = {"reduction": "sum", "name": "custom"}
    loss = getattr(losses, name)(**kwargs)
    config = loss.get_config()
    assert config["name"] == "custom" and config["reduction"] == "sum"
    clone = losses.deserialize(losses.serialize(loss))
    assert type(clone) is type(loss) and clone.get_config() == config


def test_wrapper_and_function_serialization():
    wrapper = losses.LossFunctionWrapper(losses.huber, name="h", delta=0.5)
    clone = losses.deserialize(losses.serialize(wrapper))
    assert clone.fn is losses.huber and clone.get_config() == wrapper.get_config()
    assert losses.serialize(losses.mae) == "mean_absolute_error"
    assert losses.deserialize("mean_absolute_error").fn is losses.mean_absolute_error


@pytest.mark.parametrize("true_shape,pred_shape,expected", [
    ((8, 1), (8, 1), "BinaryCrossentropy"),
    ((8,), (8, 10), "SparseCategoricalCrossentropy"),
    ((8, 1), (8, 10), "SparseCategoricalCrossentropy"),
    ((8, 10), (8, 10), "CategoricalCrossentropy"),
])
def test_resolve_crossentropy_string(true_shape, pred_shape, expected):
    loss = losses.resolve("ce", true_shape, pred_shape)
    assert type(loss).__name__ == expected and loss.name == "ce"
    assert isinstance(losses.resolve("mse", true_shape, pred_shape), losses.LossFunctionWrapper)


# --- check_targets ---------------------------------------------------------------------------

def test_check_targets_sparse():
    onehot = np.eye(3)[[0, 1, 2]]
    with pytest.raises(ValueError, match="use categorical_crossentropy or pass integer labels"):
        losses.check_targets("sparse_categorical_crossentropy", onehot, (None, 3))
    with pytest.raises(ValueError, match=r"labels in \[0, 3\).*from 0 to 3"):
        losses.check_targets("sparse_categorical_crossentropy", np.array([0, 1, 3]), (None, 3))
    with pytest.raises(ValueError, match="from -1 to 2"):
        losses.check_targets(losses.SparseCategoricalCrossentropy(), np.array([-1, 2]), (None, 3))
    with pytest.raises(ValueError, match="non-integer"):
        losses.check_targets("sparse_categorical_crossentropy", np.array([0.5, 1.0]), (None, 3))
    losses.check_targets("sparse_categorical_crossentropy", np.array([[0], [2]]), (None, 3))
    losses.check_targets(losses.SparseCategoricalCrossentropy(ignore_class=-1),
                         np.array([-1, 2]), (None, 3))


def test_check_targets_categorical_and_binary():
    with pytest.raises(ValueError, match="sparse_categorical_crossentropy"):
        losses.check_targets("categorical_crossentropy", np.array([0, 2, 1]), (None, 3))
    with pytest.raises(ValueError, match="with 3 columns"):
        losses.check_targets(losses.CategoricalCrossentropy(), np.eye(4), (None, 3))
    with pytest.raises(ValueError, match=r"binary_crossentropy expects targets in \[0, 1\]"):
        losses.check_targets("binary_crossentropy", np.array([0, 1, 5]), (None, 1))
    losses.check_targets("categorical_crossentropy", np.eye(3), (None, 3))
    losses.check_targets(losses.binary_crossentropy, np.array([0.0, 1.0, 0.3]), (None, 1))
    losses.check_targets("mse", np.array([0, 7]), (None, 1))  # not a crossentropy: no check
