"""Seed 001's scikit-learn recipes: KerasClassifier in GridSearchCV and cross_val_score."""

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression
from sklearn.model_selection import GridSearchCV, cross_val_score

from layerkit import layers, models
from layerkit.wrappers.scikit_learn import KerasClassifier, KerasRegressor


def create_network(optimizer="rmsprop"):
    network = models.Sequential()
    network.add(layers.Dense(units=16, activation="relu", input_shape=(10,)))
    network.add(layers.Dense(units=16, activation="relu"))
    network.add(layers.Dense(units=1, activation="sigmoid"))
    network.compile(loss="binary_crossentropy", optimizer=optimizer, metrics=["accuracy"])
    return network


def _data():
    return make_classification(n_samples=300, n_features=10, n_informative=3,
                               n_redundant=0, n_classes=2, weights=[.5, .5], random_state=0)


def test_cross_val_score_trains_a_fresh_model_per_fold():
    features, target = _data()
    clf = KerasClassifier(build_fn=create_network, epochs=30, batch_size=16, verbose=0)
    scores = cross_val_score(clf, features, target, cv=3)
    assert scores.shape == (3,) and scores.mean() > 0.7  # chance is 0.5


def test_grid_search_over_build_and_fit_parameters():
    features, target = _data()
    clf = KerasClassifier(build_fn=create_network, verbose=0)
    grid = GridSearchCV(clf, param_grid={"epochs": [1, 6], "batch_size": [32],
                                         "optimizer": ["rmsprop", "adam"]}, cv=2)
    result = grid.fit(features, target)
    assert set(result.best_params_) == {"epochs", "batch_size", "optimizer"}
    assert result.best_params_["epochs"] == 6


def test_predict_labels_and_probabilities_use_the_original_classes():
    features, target = _data()
    labels = np.where(target == 1, "spam", "ham")
    clf = KerasClassifier(build_fn=create_network, epochs=5, verbose=0)
    clf.fit(features, labels)
    probs = clf.predict_proba(features[:4])
    assert probs.shape == (4, 2) and np.allclose(probs.sum(1), 1.0)
    expected = np.where(probs[:, 1] > probs[:, 0], "spam", "ham")
    assert list(clf.predict(features[:4])) == list(expected)
    assert clf.score(features, labels) == pytest.approx(np.mean(clf.predict(features) == labels))


def test_regressor_score_is_negated_loss():
    x, y = make_regression(n_samples=100, n_features=4, random_state=0)

    def build():
        model = models.Sequential([layers.Dense(8, activation="relu", input_shape=(4,)),
                                   layers.Dense(1)])
        model.compile("adam", "mse")
        return model

    reg = KerasRegressor(build_fn=build, epochs=2, verbose=0)
    reg.fit(x, y)
    assert reg.predict(x).shape == (100,)
    assert reg.score(x, y) == pytest.approx(-reg.model_.evaluate(x, y, verbose=0), rel=1e-6)


def test_unknown_parameters_are_rejected_at_fit():
    clf = KerasClassifier(build_fn=create_network, epoch=3)  # scikit-learn: no checks in init
    with pytest.raises(ValueError, match=r"\['epoch'\] are neither build_fn arguments"):
        clf.fit(*_data())


def test_fit_result_still_answers_history_like_keras2():
    def build():
        model = models.Sequential([layers.Dense(4, activation="relu", input_shape=(3,)),
                                   layers.Dense(1, activation="sigmoid")])
        model.compile("rmsprop", "binary_crossentropy", metrics=["acc"])
        return model

    clf = KerasClassifier(build_fn=build, epochs=3, verbose=0)
    with pytest.raises(AttributeError, match="before fit"):
        clf.history
    result = clf.fit(np.random.rand(20, 3), np.random.randint(0, 2, 20))
    assert result is clf                       # scikit-learn's contract
    assert list(result.history) == ["loss", "acc"] and len(result.history["acc"]) == 3
