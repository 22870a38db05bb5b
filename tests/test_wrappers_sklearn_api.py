"""The scikit-learn wrappers as estimators: scikit-learn's own checks, SciKeras's API,
clone, pickling, processes, pipelines."""

import pickle
import warnings

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import make_classification, make_regression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from layerkit import layers, models, optimizers
from layerkit.wrappers.scikit_learn import KerasClassifier, KerasRegressor

# Checks these estimators fail by nature, with the reason (SciKeras fails them too).
EXPECTED_FAILED_CHECKS = {
    "check_sample_weight_equivalence_on_dense_data":
        "minibatch gradient descent: weight 2 is not the same as a repeated sample",
    "check_sample_weight_equivalence_on_sparse_data":
        "minibatch gradient descent: weight 2 is not the same as a repeated sample",
    "check_methods_subset_invariance":
        "float32 matmul kernels sum in a batch-size-dependent order (differences ~1e-7)",
    "check_methods_sample_order_invariance":
        "float32 matmul kernels sum in a batch-size-dependent order (differences ~1e-7)",
}


@pytest.fixture
def one_thread():
    """Tiny models train 5-10x faster on one thread on a busy 2-core machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def dynamic_classifier(meta, hidden=16):
    """SciKeras's pattern: the model fits whatever data `meta` describes."""
    n_classes = meta["n_classes_"]
    model = models.Sequential([
        layers.Dense(hidden, activation="relu", input_shape=(meta["n_features_in_"],)),
        layers.Dense(1 if n_classes <= 2 else n_classes,
                     activation="sigmoid" if n_classes <= 2 else "softmax")])
    model.compile(optimizers.Adam(learning_rate=0.05),
                  "binary_crossentropy" if n_classes <= 2 else "sparse_categorical_crossentropy")
    return model


def dynamic_regressor(meta, hidden=16):
    model = models.Sequential([
        layers.Dense(hidden, activation="relu", input_shape=(meta["n_features_in_"],)),
        layers.Dense(meta["n_outputs_"])])
    model.compile(optimizers.Adam(learning_rate=0.05), "mse")
    return model


def uncompiled(meta, units=8):
    return models.Sequential([
        layers.Dense(units, activation="relu", input_shape=(meta["n_features_in_"],)),
        layers.Dense(meta["n_classes_"], activation="softmax")])


def create_network(optimizer="rmsprop"):  # note 001
    network = models.Sequential([layers.Dense(16, activation="relu", input_shape=(10,)),
                                 layers.Dense(1, activation="sigmoid")])
    network.compile(loss="binary_crossentropy", optimizer=optimizer, metrics=["accuracy"])
    return network


def _data(n=120, classes=2):
    return make_classification(n_samples=n, n_features=10, n_informative=3, n_redundant=0,
                               n_classes=classes, random_state=0)


@pytest.mark.parametrize("estimator", [
    KerasClassifier(model=dynamic_classifier, epochs=5, batch_size=64, verbose=0,
                    random_state=0),
    KerasRegressor(model=dynamic_regressor, epochs=5, batch_size=64, verbose=0,
                   random_state=0),
], ids=["classifier", "regressor"])
def test_scikit_learn_estimator_checks(estimator, one_thread):
    # imported here: n_jobs=2 workers import this module, and the checks are heavy
    from sklearn.utils.estimator_checks import check_estimator

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(estimator, on_fail=None,
                                  expected_failed_checks=EXPECTED_FAILED_CHECKS)
    failed = [(r["check_name"], repr(r["exception"])[:300]) for r in results
              if r["status"] == "failed"]
    assert not failed
    assert sum(r["status"] == "passed" for r in results) >= 55


def test_routed_parameters_clone_and_nested_get_set(one_thread):
    clf = KerasClassifier(model=uncompiled, model__units=4, optimizer="adam",
                          optimizer__learning_rate=0.02, fit__validation_split=0.25,
                          loss="sparse_categorical_crossentropy", epochs=3, verbose=0)
    params = clf.get_params()
    assert params["model__units"] == 4 and params["optimizer__learning_rate"] == 0.02
    twin = clone(clf)
    assert twin.get_params() == params and twin is not clf
    twin.set_params(model__units=6, optimizer__learning_rate=0.05)
    assert clf.get_params()["model__units"] == 4
    x, y = _data(classes=3)
    twin.fit(x, y)
    assert twin.model_.layers[0].units == 6
    assert twin.model_.optimizer.learning_rate == pytest.approx(0.05)
    assert set(twin.history_) == {"loss", "val_loss"} and len(twin.history_["loss"]) == 3
    assert twin.n_features_in_ == 10 and list(twin.classes_) == [0, 1, 2]
    assert twin.predict_proba(x).shape == (120, 3)
    with pytest.raises(ValueError, match="neither build_fn arguments"):
        twin.set_params(hidden_units=3)


def test_pickled_fitted_estimator_predicts_the_same(one_thread):
    x, y = _data()
    clf = KerasClassifier(build_fn=create_network, epochs=3, batch_size=32, verbose=0)
    clf.fit(x, y)
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.predict_proba(x), clf.predict_proba(x))
    again.set_params(warm_start=True).fit(x, y)
    assert len(again.history_["loss"]) == 6  # warm start: kept training the same model


def test_grid_search_and_cross_val_in_two_processes():
    x, y = _data(n=90)
    clf = KerasClassifier(build_fn=create_network, verbose=0, batch_size=32)
    grid = GridSearchCV(clf, {"epochs": [1, 4], "optimizer": ["rmsprop", "adam"]}, cv=2,
                        n_jobs=2).fit(x, y)
    assert set(grid.best_params_) == {"epochs", "optimizer"}
    assert grid.best_estimator_.model_.built
    scores = cross_val_score(KerasClassifier(build_fn=create_network, epochs=2, verbose=0),
                             x, y, cv=2, n_jobs=2)
    assert scores.shape == (2,) and np.all((0 <= scores) & (scores <= 1))


def test_string_and_one_hot_targets_and_sample_weights(one_thread):
    x, y = _data(classes=3)
    names = np.array(["cat", "dog", "fox"])[y]
    clf = KerasClassifier(model=dynamic_classifier, epochs=3, verbose=0, random_state=0)
    assert set(clf.fit(x, names).predict(x)) <= {"cat", "dog", "fox"}
    one_hot = np.eye(3)[y]
    clf_oh = KerasClassifier(model=uncompiled, loss="categorical_crossentropy", epochs=3,
                             verbose=0).fit(x, one_hot)
    predicted = clf_oh.predict(x)
    assert predicted.shape == (120, 3) and np.all(predicted.sum(1) == 1)
    assert 0 <= clf_oh.score(x, one_hot) <= 1
    weights = np.where(y == 0, 0.0, 1.0)  # class 0 ignored entirely
    seeded = dict(model=dynamic_classifier, epochs=5, verbose=0, random_state=1)
    weighted = KerasClassifier(**seeded).fit(x, y, sample_weight=weights)
    plain = KerasClassifier(**seeded).fit(x, y)
    assert not np.allclose(weighted.predict_proba(x), plain.predict_proba(x))
    with pytest.raises(ValueError, match="Unknown label type"):
        KerasClassifier(model=dynamic_classifier).fit(x, x[:, 0])


def test_pipeline_with_standard_scaler(one_thread):
    x, y = make_regression(n_samples=100, n_features=5, noise=0.1, random_state=0)
    pipe = make_pipeline(StandardScaler(), KerasRegressor(model=dynamic_regressor, epochs=30,
                                                          batch_size=16, verbose=0,
                                                          random_state=0))
    pipe.fit(x, y / y.std())
    assert pipe.score(x, y / y.std()) > 0.5  # R², as scikit-learn scores regressors
    assert pipe.predict(x).shape == (100,)
    grid = GridSearchCV(pipe, {"kerasregressor__model__hidden": [4, 8]}, cv=2).fit(x, y)
    assert grid.best_params_["kerasregressor__model__hidden"] in (4, 8)

