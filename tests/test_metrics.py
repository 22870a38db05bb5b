"""layerkit.metrics against Keras 3 (torch backend): running values, names, resolve rule."""

import keras
import numpy as np
import pytest
import torch

from layerkit import metrics
from layerkit.graph import tensor_info
from layerkit.utils.naming import reset_names

RNG = np.random.default_rng(1)


def _np(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


def _softmax(n, c):
    z = RNG.normal(size=(n, c)).astype("float32")
    e = np.exp(z - z.max(-1, keepdims=True))
    return (e / e.sum(-1, keepdims=True)).astype("float32")


def _batches(kind, count=3):
    """Several (y_true, y_pred, sample_weight) batches of different sizes."""
    out = []
    for i in range(count):
        n = 5 + 3 * i
        if kind == "binary":
            y, p = RNG.integers(0, 2, (n, 1)).astype("float32"), RNG.uniform(0, 1, (n, 1))
        elif kind == "categorical":
            y, p = np.eye(4, dtype="float32")[RNG.integers(0, 4, n)], _softmax(n, 4)
        elif kind == "sparse":
            y, p = RNG.integers(0, 4, (n, 1)).astype("float32"), _softmax(n, 4)
        elif kind == "positive":
            y, p = RNG.uniform(0.5, 3, (n, 3)), RNG.uniform(0.5, 3, (n, 3))
        else:
            y, p = RNG.normal(size=(n, 3)), RNG.normal(size=(n, 3))
        w = RNG.uniform(0, 2, (n,)).astype("float32")
        out.append((np.asarray(y, "float32"), np.asarray(p, "float32"), w))
    return out


def _run(metric, batches, weighted, to_torch=True):
    for y, p, w in batches:
        args = (torch.as_tensor(y), torch.as_tensor(p)) if to_torch else (y, p)
        metric.update_state(*args, sample_weight=w if weighted else None)
    return metric.result()


MEAN_METRICS = [
    ("BinaryAccuracy", "binary", {}),
    ("BinaryAccuracy", "binary", {"threshold": 0.3}),
    ("CategoricalAccuracy", "categorical", {}),
    ("SparseCategoricalAccuracy", "sparse", {}),
    ("TopKCategoricalAccuracy", "categorical", {"k": 2}),
    ("SparseTopKCategoricalAccuracy", "sparse", {"k": 2}),
    ("MeanAbsoluteError", "regression", {}),
    ("MeanSquaredError", "regression", {}),
    ("RootMeanSquaredError", "regression", {}),
    ("MeanAbsolutePercentageError", "positive", {}),
    ("MeanSquaredLogarithmicError", "positive", {}),
    ("CosineSimilarity", "regression", {}),
    ("LogCoshError", "regression", {}),
    ("BinaryCrossentropy", "binary", {}),
    ("CategoricalCrossentropy", "categorical", {}),
    ("CategoricalCrossentropy", "categorical", {"label_smoothing": 0.1}),
    ("SparseCategoricalCrossentropy", "sparse", {}),
    ("KLDivergence", "categorical", {}),
    ("Poisson", "positive", {}),
    ("Hinge", "binary", {}),
    ("SquaredHinge", "binary", {}),
    ("CategoricalHinge", "categorical", {}),
]


@pytest.mark.parametrize("name,kind,kwargs", MEAN_METRICS,
                         ids=[f"{n}-{k}-{len(kw)}" for n, k, kw in MEAN_METRICS])
@pytest.mark.parametrize("weighted", [False, True], ids=["plain", "weighted"])
def test_running_metrics_match_keras(name, kind, kwargs, weighted):
    batches = _batches(kind)
    got = _run(getattr(metrics, name)(**kwargs), batches, weighted)
    want = _run(getattr(keras.metrics, name)(**kwargs), batches, weighted, to_torch=False)
    assert got.dim() == 0
    np.testing.assert_allclose(got.numpy(), _np(want), rtol=1e-5, atol=1e-6)


def test_mean_is_global_per_sample_not_mean_of_batch_means():
    m = metrics.MeanAbsoluteError()
    m.update_state(torch.zeros(1, 1), torch.ones(1, 1))           # one sample, error 1
    m.update_state(torch.zeros(3, 1), torch.zeros(3, 1))          # three samples, error 0
    assert m.result().item() == pytest.approx(0.25)


@pytest.mark.parametrize("cls", ["Mean", "Sum"])
def test_mean_and_sum_match_keras(cls):
    values = [RNG.normal(size=(4, 3)).astype("float32"), RNG.normal(size=(2, 3)).astype("float32")]
    weights = [RNG.uniform(0, 1, (4,)).astype("float32"), RNG.uniform(0, 1, (2,)).astype("float32")]
    ours, ref = getattr(metrics, cls)(), getattr(keras.metrics, cls)()
    for v, w in zip(values, weights):
        ours.update_state(torch.as_tensor(v), sample_weight=torch.as_tensor(w))
        ref.update_state(v, sample_weight=w)
    np.testing.assert_allclose(ours.result().numpy(), _np(ref.result()), rtol=1e-5)
    ours.reset_state()
    assert ours.result().item() == 0.0


def test_mean_metric_wrapper_and_masks():
    m = metrics.MeanMetricWrapper(metrics.mean_absolute_error)
    assert m.name == "mean_absolute_error"
    p = torch.tensor([[1.0], [5.0], [3.0]])
    tensor_info.set_mask(p, torch.tensor([True, False, True]))
    m.update_state(torch.zeros(3, 1), p)
    assert m.result().item() == pytest.approx(2.0)  # the masked sample is left out


def test_sparse_crossentropy_metric_with_ignore_class_matches_keras():
    y = np.array([0, 2, 3, 1, 3], "int64")
    p = _softmax(5, 4)
    w = np.array([1.0, 0.5, 1.0, 2.0, 1.0], "float32")
    ours = metrics.SparseCategoricalCrossentropy(ignore_class=3)
    ref = keras.metrics.SparseCategoricalCrossentropy(ignore_class=3)
    ours.update_state(torch.as_tensor(y), torch.as_tensor(p), sample_weight=w)
    ref.update_state(y, p, sample_weight=w)
    np.testing.assert_allclose(ours.result().numpy(), _np(ref.result()), rtol=1e-5)


def test_update_does_not_track_gradients_or_sync():
    p = torch.rand(4, 1, requires_grad=True)
    m = metrics.BinaryAccuracy()
    m.update_state(torch.ones(4, 1), p)
    assert not m.total.requires_grad and not m.result().requires_grad
    auc = metrics.AUC()
    auc.update_state(torch.ones(4, 1), p)
    assert not auc.true_positives.requires_grad


# --- Confusion metrics -----------------------------------------------------------------------

def _binary_batches(shape=(3,), count=3):
    out = []
    for i in range(count):
        n = 20 + 7 * i
        y = RNG.integers(0, 2, (n,) + shape[1:]).astype("float32")
        p = np.clip(0.5 * y + RNG.uniform(0, 0.7, y.shape), 0, 1).astype("float32")
        p[:3] = [0.0, 1.0, 0.5][: min(3, n)] if p.ndim == 1 else p[:3]
        out.append((y, p, RNG.uniform(0, 2, (n,)).astype("float32")))
    return out


AUC_CASES = [
    {},
    {"curve": "PR"},
    {"curve": "PR", "summation_method": "minoring"},
    {"summation_method": "majoring"},
    {"curve": "PRGAIN"},
    {"num_thresholds": 7},
    {"thresholds": [0.1, 0.35, 0.5, 0.9]},
    {"thresholds": [0.25, 0.5, 0.75]},
    {"from_logits": True},
]


@pytest.mark.parametrize("kwargs", AUC_CASES, ids=[str(k) for k in AUC_CASES])
@pytest.mark.parametrize("weighted", [False, True], ids=["plain", "weighted"])
def test_auc_matches_keras(kwargs, weighted):
    batches = _binary_batches()
    got = _run(metrics.AUC(**kwargs), batches, weighted)
    want = _run(keras.metrics.AUC(**kwargs), batches, weighted, to_torch=False)
    np.testing.assert_allclose(got.numpy(), _np(want), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kwargs", [
    {"multi_label": True},
    {"multi_label": True, "label_weights": [0.2, 1.0, 0.5]},
    {"multi_label": True, "curve": "PR", "thresholds": [0.3, 0.6]},
    {"multi_label": False, "label_weights": [0.2, 1.0, 0.5]},
], ids=["multi", "multi-weights", "multi-pr-uneven", "flat-weights"])
def test_auc_multi_label_matches_keras(kwargs):
    batches = []
    for n in (12, 9):
        y = RNG.integers(0, 2, (n, 3)).astype("float32")
        p = np.clip(0.4 * y + RNG.uniform(0, 0.7, y.shape), 0, 1).astype("float32")
        batches.append((y, p, RNG.uniform(0, 2, (n,)).astype("float32")))
    got = _run(metrics.AUC(**kwargs), batches, True)
    want = _run(keras.metrics.AUC(**kwargs), batches, True, to_torch=False)
    np.testing.assert_allclose(got.numpy(), _np(want), rtol=1e-5, atol=1e-6)


def test_auc_hand_computed():
    # Perfect separation gives 1; the classic 4-point ROC example gives 0.75.
    auc = metrics.AUC()
    auc.update_state(torch.tensor([0.0, 0.0, 1.0, 1.0]), torch.tensor([0.1, 0.4, 0.35, 0.8]))
    assert auc.result().item() == pytest.approx(0.75, abs=1e-6)
    auc.reset_state()
    auc.update_state(torch.tensor([0.0, 1.0]), torch.tensor([0.2, 0.9]))
    assert auc.result().item() == pytest.approx(1.0, abs=1e-6)


PR_CASES = [
    {},
    {"thresholds": [0.2, 0.5, 0.8]},
    {"thresholds": [0.0, 0.5, 1.0]},
    {"top_k": 2},
    {"class_id": 1},
    {"top_k": 1, "class_id": 2},
]


@pytest.mark.parametrize("cls", ["Precision", "Recall"])
@pytest.mark.parametrize("kwargs", PR_CASES, ids=[str(k) for k in PR_CASES])
@pytest.mark.parametrize("weighted", [False, True], ids=["plain", "weighted"])
def test_precision_recall_match_keras(cls, kwargs, weighted):
    batches = []
    for n in (10, 6, 8):
        y = RNG.integers(0, 2, (n, 3)).astype("float32")
        p = RNG.uniform(0, 1, (n, 3)).astype("float32")
        batches.append((y, p, RNG.uniform(0, 2, (n,)).astype("float32")))
    got = _run(getattr(metrics, cls)(**kwargs), batches, weighted)
    want = _run(getattr(keras.metrics, cls)(**kwargs), batches, weighted, to_torch=False)
    np.testing.assert_allclose(got.numpy(), _np(want), rtol=1e-5, atol=1e-6)


def test_precision_recall_hand_computed():
    y = torch.tensor([0.0, 1.0, 1.0, 1.0])
    p = torch.tensor([1.0, 1.0, 0.5, 0.0])  # 0.5 is not > 0.5
    assert metrics.Precision()(y, p).item() == pytest.approx(0.5)
    assert metrics.Recall()(y, p).item() == pytest.approx(1 / 3)


# --- Names, lookup and the compile-time resolve rule -----------------------------------------

@pytest.mark.parametrize("true_shape,pred_shape,expected", [
    ((32, 1), (32, 1), "BinaryAccuracy"),
    ((32,), (32, 1), "BinaryAccuracy"),
    ((32,), (32, 10), "SparseCategoricalAccuracy"),
    ((32, 1), (32, 10), "SparseCategoricalAccuracy"),
    ((32, 20), (32, 20, 5), "SparseCategoricalAccuracy"),
    ((32, 10), (32, 10), "CategoricalAccuracy"),
    ((32, 2), (32, 2), "CategoricalAccuracy"),  # softmax + binary_crossentropy, shape rule
])
@pytest.mark.parametrize("string", ["accuracy", "acc", "ACC"])
def test_resolve_accuracy_rule(true_shape, pred_shape, expected, string):
    metric = metrics.resolve(string, true_shape, pred_shape)
    assert type(metric).__name__ == expected
    assert metric.name == string


@pytest.mark.parametrize("true_shape,pred_shape,expected", [
    ((8, 1), (8, 1), "BinaryCrossentropy"),
    ((8,), (8, 3), "SparseCategoricalCrossentropy"),
    ((8, 3), (8, 3), "CategoricalCrossentropy"),
])
def test_resolve_crossentropy_rule(true_shape, pred_shape, expected):
    for string in ("crossentropy", "ce"):
        metric = metrics.resolve(string, true_shape, pred_shape)
        assert type(metric).__name__ == expected and metric.name == string


@pytest.mark.parametrize("identifier,name,cls", [
    ("mae", "mae", "MeanAbsoluteError"),
    ("mse", "mse", "MeanSquaredError"),
    ("mean_absolute_error", "mean_absolute_error", "MeanAbsoluteError"),
    ("binary_crossentropy", "binary_crossentropy", "BinaryCrossentropy"),
    ("AUC", "AUC", "AUC"),
    ("auc", "auc", "AUC"),
    ("precision", "precision", "Precision"),
    ("top_k_categorical_accuracy", "top_k_categorical_accuracy", "TopKCategoricalAccuracy"),
    ("root_mean_squared_error", "root_mean_squared_error", "RootMeanSquaredError"),
    ("logcosh", "logcosh", "LogCoshError"),
    ("kld", "kld", "KLDivergence"),
])
def test_resolve_strings_keep_the_users_name(identifier, name, cls):
    metric = metrics.resolve(identifier, (4, 1), (4, 1))
    assert metric.name == name and type(metric).__name__ == cls


def test_resolve_functions_and_instances():
    assert metrics.resolve(metrics.mae, (4, 1), (4, 1)).name == "mean_absolute_error"
    assert metrics.resolve(metrics.binary_accuracy, (4, 1), (4, 1)).name == "binary_accuracy"

    def myMetric(y_true, y_pred):  # noqa: N802 - tf.keras keeps __name__ verbatim
        return (y_true - y_pred).abs().mean(-1)

    wrapped = metrics.resolve(myMetric, (4, 1), (4, 1))
    assert wrapped.name == "myMetric" and isinstance(wrapped, metrics.MeanMetricWrapper)
    instance = metrics.Precision(name="prec")
    assert metrics.resolve(instance, (4, 1), (4, 1)) is instance
    reset_names()
    assert metrics.resolve(metrics.AUC, (4, 1), (4, 1)).name == "auc"
    assert metrics.AUC().name == "auc_1"  # tf.keras/Keras 3 unique default names
    reset_names()


def test_get_defaults_and_errors():
    assert metrics.get("mae").name == "mean_absolute_error"
    assert isinstance(metrics.get("accuracy"), metrics.Accuracy)  # exact-equality Accuracy
    got = metrics.get({"class_name": "BinaryAccuracy", "config": {"threshold": 0.7}})
    assert got.threshold == 0.7
    with pytest.raises(ValueError, match="Unknown metric: 'maee'"):
        metrics.get("maee")


ROUND_TRIP = [
    metrics.Mean(name="m"), metrics.Sum(), metrics.Accuracy(),
    metrics.BinaryAccuracy(threshold=0.3), metrics.CategoricalAccuracy(),
    metrics.SparseCategoricalAccuracy(), metrics.TopKCategoricalAccuracy(k=3),
    metrics.SparseTopKCategoricalAccuracy(k=2), metrics.MeanAbsoluteError(name="mae"),
    metrics.MeanSquaredError(), metrics.RootMeanSquaredError(),
    metrics.MeanAbsolutePercentageError(), metrics.MeanSquaredLogarithmicError(),
    metrics.CosineSimilarity(axis=-1), metrics.LogCoshError(),
    metrics.BinaryCrossentropy(from_logits=True, label_smoothing=0.1),
    metrics.CategoricalCrossentropy(label_smoothing=0.2),
    metrics.SparseCategoricalCrossentropy(ignore_class=0), metrics.KLDivergence(),
    metrics.Poisson(), metrics.Hinge(), metrics.SquaredHinge(), metrics.CategoricalHinge(),
    metrics.Precision(thresholds=[0.2, 0.6], name="p"), metrics.Recall(top_k=2, class_id=1),
    metrics.AUC(curve="PR", num_thresholds=50, name="a"),
    metrics.AUC(thresholds=[0.3, 0.6], multi_label=True, label_weights=[1.0, 2.0]),
    metrics.MeanMetricWrapper(metrics.huber, name="hub", delta=0.5),
]


@pytest.mark.parametrize("metric", ROUND_TRIP, ids=lambda m: type(m).__name__)
def test_config_round_trip(metric):
    config = metric.get_config()
    clone = metrics.deserialize(metrics.serialize(metric))
    assert type(clone) is type(metric)
    assert clone.get_config() == config
    assert type(metric).from_config(config).get_config() == config


def test_module_function_aliases():
    assert metrics.mae is metrics.mean_absolute_error and metrics.mse is metrics.MSE
    assert metrics.kld is metrics.kl_divergence and metrics.acc is metrics.accuracy
    assert metrics.serialize(metrics.mae) == "mean_absolute_error"
